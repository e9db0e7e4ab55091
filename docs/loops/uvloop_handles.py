# uvloop_handles.py - plain program, uvloop only: the handles call_soon /
# call_later / call_at return, and the order of call_later(0) against
# call_soon. asyncio documents call_later/call_at as returning an
# asyncio.TimerHandle (call_soon an asyncio.Handle); uvloop 0.17 returns its
# own classes; call_later(0) and a past call_at are plain call_soons
# (uvloop.loop.Handle, no when()), so a call_later(0) runs before a
# call_soon made after it, where asyncio runs the ready callback first
# (MagicStack/uvloop#482, open; PR #704). asyncfuzz: loop.handle type,
# loop.order timer-before-ready on target uvloop.
import asyncio
import uvloop


def scenario(loop):
    out = []
    now = loop.time()
    hs = {"call_soon": loop.call_soon(lambda: None),
          "call_later(1)": loop.call_later(1, lambda: None),
          "call_later(0)": loop.call_later(0, lambda: None),
          "call_at(past)": loop.call_at(now - 1, lambda: None)}
    for k, h in hs.items():
        want = asyncio.Handle if k == "call_soon" else asyncio.TimerHandle
        out.append("%s -> %s.%s (%s)" % (k, type(h).__module__, type(h).__name__,
                                         "ok" if isinstance(h, want) else "NOT " + want.__name__))
        h.cancel()
    order = []

    def cb():
        loop.call_later(0, order.append, "L0")
        loop.call_soon(order.append, "S")
        loop.call_later(0.002, loop.stop)

    loop.call_soon(cb)
    loop.run_forever()
    out.append("in one callback: call_later(0, L0); call_soon(S) -> ran " + ", ".join(order))
    return out


for name, make in (("asyncio", asyncio.new_event_loop), ("uvloop " + uvloop.__version__, uvloop.new_event_loop)):
    loop = make()
    print("==", name)
    for line in scenario(loop):
        print("  ", line)
    loop.close()
