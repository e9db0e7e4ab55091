# uvloop_stop_runs_next_batch.py - plain program, uvloop only: loop.stop()
# called from a callback must end run_forever after the current batch;
# callbacks scheduled in that iteration run at the next run_forever (asyncio
# docs of stop(); base_events.py). uvloop 0.17 runs one more batch first
# (MagicStack/uvloop#517, open). asyncfuzz: loop.stop late on target uvloop.
import asyncio
import uvloop


def scenario(loop):
    log = []

    def x():
        log.append("X")
        loop.call_soon(log.append, "A")
        loop.stop()
        loop.call_soon(log.append, "B")

    loop.call_soon(x)
    loop.call_soon(log.append, "Y")
    loop.run_forever()
    log.append("|returned|")
    loop.call_soon(loop.stop)
    loop.run_forever()
    return log


for name, make in (("asyncio", asyncio.new_event_loop), ("uvloop " + uvloop.__version__, uvloop.new_event_loop)):
    loop = make()
    print("%-14s %s" % (name, " ".join(scenario(loop))))
    loop.close()
