/* json_locate.c - positions in JSON text: a strict syntax check with exact
 * error positions, and a locator that finds where a cJSON node came from.
 *
 * Why our own syntax check: cJSON accepts text RFC 8259 rejects (leading
 * zeros "01"; numbers that overflow to inf) and its error pointer
 * (cJSON_GetErrorPtr / return_parse_end) is the parser's buffer offset at the
 * point of failure, clamped to the last byte when the failure is at the end:
 * an unterminated string points inside the string, a truncated document at
 * its last byte, a trailing comma at the closing bracket. This scanner runs
 * first and says what is wrong and where; cJSON then parses text known to be
 * valid (json_read.c still falls back on cJSON's pointer should cJSON fail,
 * e.g. out of memory).
 *
 * Why a locator: cJSON keeps no positions. Given the tree and the text it
 * was parsed from, af_json_locate walks both in step (cJSON keeps object
 * members and array elements in text order, duplicate keys included) and
 * returns the offset where a node's value (and key) starts.
 */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "scenarios/json.h"

/* ------------------------------------------------------------------ */
/* syntax check                                                        */

struct scan {
    const unsigned char *s;
    size_t len;
    size_t pos;
    size_t err_off;
    char *msg;
    size_t cap;
    bool failed;
};

static int fail_at(struct scan *sc, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(struct scan *sc, size_t off, const char *fmt, ...)
{
    if (!sc->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(sc->msg, sc->cap, fmt, ap);
        va_end(ap);
        sc->err_off = off;
        sc->failed = true;
    }
    return -1;
}

static void describe_byte(const struct scan *sc, size_t off, char *buf, size_t cap)
{
    if (off >= sc->len) {
        snprintf(buf, cap, "end of input");
        return;
    }
    unsigned char c = sc->s[off];
    if (c >= 0x20 && c < 0x7f)
        snprintf(buf, cap, "'%c'", c);
    else
        snprintf(buf, cap, "byte 0x%02x", c);
}

static void skip_ws(struct scan *sc)
{
    while (sc->pos < sc->len) {
        unsigned char c = sc->s[sc->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            sc->pos++;
        else
            break;
    }
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads 4 hex digits at off; -1 if they are not there. */
static long hex4(const struct scan *sc, size_t off)
{
    if (off + 4 > sc->len)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(sc->s[off + i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Length of the UTF-8 sequence at off (>= 2), or 0 if it is invalid. */
static size_t utf8_len(const struct scan *sc, size_t off)
{
    const unsigned char *p = sc->s + off;
    size_t left = sc->len - off;
    unsigned char c = p[0];
    size_t n;
    unsigned long cp;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0; /* overlong or beyond Unicode */
    if (cp >= 0xd800 && cp <= 0xdfff)
        return 0; /* surrogates are not characters */
    return n;
}

static int scan_string(struct scan *sc)
{
    size_t start = sc->pos;
    sc->pos++; /* opening quote */
    while (sc->pos < sc->len) {
        unsigned char c = sc->s[sc->pos];
        if (c == '"') {
            sc->pos++;
            return 0;
        }
        if (c == '\n' || c == '\r')
            return fail_at(sc, start, "unterminated string (line ends before the closing quote)");
        if (c < 0x20)
            return fail_at(sc, sc->pos, "control character 0x%02x in string (escape it)", c);
        if (c == '\\') {
            size_t esc = sc->pos;
            if (esc + 1 >= sc->len)
                break;
            unsigned char e = sc->s[esc + 1];
            if (e != '\0' && strchr("\"\\/bfnrt", e)) {
                sc->pos += 2;
                continue;
            }
            if (e != 'u') {
                if (e >= 0x20 && e < 0x7f)
                    return fail_at(sc, esc, "invalid escape '\\%c' in string", e);
                return fail_at(sc, esc, "invalid escape in string");
            }
            long u = hex4(sc, esc + 2);
            if (u < 0)
                return fail_at(sc, esc, "invalid \\u escape (needs 4 hex digits)");
            if (u == 0)
                return fail_at(sc, esc, "\\u0000 is not allowed in strings");
            if (u >= 0xdc00 && u <= 0xdfff)
                return fail_at(sc, esc, "unpaired surrogate in \\u escape");
            if (u >= 0xd800 && u <= 0xdbff) {
                long lo = -1;
                if (esc + 12 <= sc->len && sc->s[esc + 6] == '\\' && sc->s[esc + 7] == 'u')
                    lo = hex4(sc, esc + 8);
                if (lo < 0xdc00 || lo > 0xdfff)
                    return fail_at(sc, esc, "unpaired surrogate in \\u escape");
                sc->pos += 12;
                continue;
            }
            sc->pos += 6;
            continue;
        }
        if (c >= 0x80) {
            size_t n = utf8_len(sc, sc->pos);
            if (n == 0)
                return fail_at(sc, sc->pos, "invalid UTF-8 in string");
            sc->pos += n;
            continue;
        }
        sc->pos++;
    }
    return fail_at(sc, start, "unterminated string (input ends before the closing quote)");
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int scan_number(struct scan *sc)
{
    size_t start = sc->pos;
    const unsigned char *s = sc->s;
    if (s[sc->pos] == '-')
        sc->pos++;
    if (sc->pos >= sc->len || !is_digit(s[sc->pos]))
        return fail_at(sc, start, "invalid number (a digit must follow '-')");
    if (s[sc->pos] == '0') {
        sc->pos++;
        if (sc->pos < sc->len && is_digit(s[sc->pos]))
            return fail_at(sc, start, "invalid number (leading zero)");
    } else {
        while (sc->pos < sc->len && is_digit(s[sc->pos]))
            sc->pos++;
    }
    if (sc->pos < sc->len && s[sc->pos] == '.') {
        sc->pos++;
        if (sc->pos >= sc->len || !is_digit(s[sc->pos]))
            return fail_at(sc, start, "invalid number (a digit must follow '.')");
        while (sc->pos < sc->len && is_digit(s[sc->pos]))
            sc->pos++;
    }
    if (sc->pos < sc->len && (s[sc->pos] == 'e' || s[sc->pos] == 'E')) {
        sc->pos++;
        if (sc->pos < sc->len && (s[sc->pos] == '+' || s[sc->pos] == '-'))
            sc->pos++;
        if (sc->pos >= sc->len || !is_digit(s[sc->pos]))
            return fail_at(sc, start, "invalid number (a digit must follow the exponent)");
        while (sc->pos < sc->len && is_digit(s[sc->pos]))
            sc->pos++;
    }
    return 0;
}

static int scan_value(struct scan *sc, int depth);

static int scan_container(struct scan *sc, int depth)
{
    bool object = sc->s[sc->pos] == '{';
    char close = object ? '}' : ']';
    const char *what = object ? "object" : "array";
    if (depth >= AF_JSON_MAX_NESTING)
        return fail_at(sc, sc->pos, "arrays and objects nested deeper than %d levels",
                       AF_JSON_MAX_NESTING);
    sc->pos++;
    skip_ws(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == close) {
        sc->pos++;
        return 0;
    }
    for (;;) {
        char found[32];
        if (object) {
            if (sc->pos >= sc->len || sc->s[sc->pos] != '"') {
                describe_byte(sc, sc->pos, found, sizeof found);
                return fail_at(sc, sc->pos, "expected a string key, found %s", found);
            }
            if (scan_string(sc))
                return -1;
            skip_ws(sc);
            if (sc->pos >= sc->len || sc->s[sc->pos] != ':') {
                describe_byte(sc, sc->pos, found, sizeof found);
                return fail_at(sc, sc->pos, "expected ':' after the key, found %s", found);
            }
            sc->pos++;
            skip_ws(sc);
        }
        if (scan_value(sc, depth + 1))
            return -1;
        skip_ws(sc);
        if (sc->pos < sc->len && sc->s[sc->pos] == close) {
            sc->pos++;
            return 0;
        }
        if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
            size_t comma = sc->pos;
            sc->pos++;
            skip_ws(sc);
            if (sc->pos < sc->len && sc->s[sc->pos] == close)
                return fail_at(sc, comma, "trailing comma in %s", what);
            continue;
        }
        describe_byte(sc, sc->pos, found, sizeof found);
        return fail_at(sc, sc->pos, "expected ',' or '%c' in %s, found %s", close, what, found);
    }
}

static int scan_literal(struct scan *sc, const char *word)
{
    size_t n = strlen(word);
    if (sc->len - sc->pos >= n && memcmp(sc->s + sc->pos, word, n) == 0) {
        size_t end = sc->pos + n;
        /* "truex" is not "true" followed by garbage but a bad word */
        if (end >= sc->len || !((sc->s[end] >= 'a' && sc->s[end] <= 'z') ||
                                (sc->s[end] >= 'A' && sc->s[end] <= 'Z') || is_digit(sc->s[end]))) {
            sc->pos = end;
            return 0;
        }
    }
    return -1;
}

static int scan_value(struct scan *sc, int depth)
{
    char found[32];
    if (sc->pos >= sc->len)
        return fail_at(sc, sc->pos, "expected a value, found end of input");
    unsigned char c = sc->s[sc->pos];
    switch (c) {
    case '{':
    case '[':
        return scan_container(sc, depth);
    case '"':
        return scan_string(sc);
    case 't':
        if (scan_literal(sc, "true") == 0)
            return 0;
        break;
    case 'f':
        if (scan_literal(sc, "false") == 0)
            return 0;
        break;
    case 'n':
        if (scan_literal(sc, "null") == 0)
            return 0;
        break;
    case '/':
        return fail_at(sc, sc->pos, "unexpected '/' (JSON has no comments)");
    default:
        if (c == '-' || is_digit(c))
            return scan_number(sc);
        break;
    }
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        size_t end = sc->pos;
        while (end < sc->len && end - sc->pos < 16 &&
               ((sc->s[end] >= 'a' && sc->s[end] <= 'z') ||
                (sc->s[end] >= 'A' && sc->s[end] <= 'Z') || is_digit(sc->s[end]) ||
                sc->s[end] == '_'))
            end++;
        return fail_at(sc, sc->pos, "invalid literal '%.*s' (strings need double quotes)",
                       (int)(end - sc->pos), (const char *)sc->s + sc->pos);
    }
    describe_byte(sc, sc->pos, found, sizeof found);
    return fail_at(sc, sc->pos, "expected a value, found %s", found);
}

int af_json_syntax_check(const char *text, size_t len, size_t *offset, char *msg, size_t cap)
{
    struct scan sc = {.s = (const unsigned char *)text, .len = len, .msg = msg, .cap = cap};
    if (cap)
        msg[0] = '\0';
    skip_ws(&sc);
    if (sc.pos >= len) {
        fail_at(&sc, sc.pos, "empty input (expected a JSON object)");
    } else if (scan_value(&sc, 0) == 0) {
        skip_ws(&sc);
        if (sc.pos < len) {
            char found[32];
            describe_byte(&sc, sc.pos, found, sizeof found);
            fail_at(&sc, sc.pos, "unexpected %s after the end of the JSON value", found);
        }
    }
    if (sc.failed) {
        *offset = sc.err_off;
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* locator (the text is known to be valid JSON)                        */

struct walk {
    const char *s;
    size_t len;
    const cJSON *target;
    size_t val;
    size_t key;
};

static size_t lw_ws(const struct walk *w, size_t p)
{
    while (p < w->len && (w->s[p] == ' ' || w->s[p] == '\t' || w->s[p] == '\n' || w->s[p] == '\r'))
        p++;
    return p;
}

/* p at an opening quote: returns the offset after the closing quote. */
static size_t lw_string(const struct walk *w, size_t p)
{
    p++;
    while (p < w->len && w->s[p] != '"') {
        if (w->s[p] == '\\')
            p++;
        p++;
    }
    return p < w->len ? p + 1 : w->len;
}

/* p at a value: returns the offset after it. */
static size_t lw_skip(const struct walk *w, size_t p)
{
    if (p >= w->len)
        return p;
    char c = w->s[p];
    if (c == '"')
        return lw_string(w, p);
    if (c == '{' || c == '[') {
        int depth = 0;
        while (p < w->len) {
            c = w->s[p];
            if (c == '"') {
                p = lw_string(w, p);
                continue;
            }
            if (c == '{' || c == '[')
                depth++;
            else if (c == '}' || c == ']') {
                depth--;
                if (depth == 0)
                    return p + 1;
            }
            p++;
        }
        return p;
    }
    while (p < w->len && w->s[p] != 0 && strchr(",}] \t\r\n", w->s[p]) == NULL)
        p++;
    return p;
}

/* p at the value of `node`: true (with w->val/key set) when target is
 * node or inside it. */
static bool lw_find(struct walk *w, const cJSON *node, size_t p)
{
    if (node == w->target) {
        w->val = w->key = p;
        return true;
    }
    if (!(cJSON_IsObject(node) || cJSON_IsArray(node)) || p >= w->len)
        return false;
    bool object = cJSON_IsObject(node);
    p = lw_ws(w, p + 1);
    for (const cJSON *child = node->child; child; child = child->next) {
        size_t keyp = p;
        if (object) {
            p = lw_ws(w, lw_string(w, p));
            p = lw_ws(w, p + 1); /* ':' */
        }
        if (child == w->target) {
            w->val = p;
            w->key = object ? keyp : p;
            return true;
        }
        if (lw_find(w, child, p))
            return true;
        p = lw_ws(w, lw_skip(w, p));
        if (p < w->len && w->s[p] == ',')
            p = lw_ws(w, p + 1);
    }
    return false;
}

int af_json_locate(const char *text, size_t len, const cJSON *root, const cJSON *target,
                   size_t *value_offset, size_t *key_offset)
{
    struct walk w = {.s = text, .len = len, .target = target};
    if (!root || !target || !lw_find(&w, root, lw_ws(&w, 0)))
        return -1;
    *value_offset = w.val;
    *key_offset = w.key;
    return 0;
}

void af_json_line_col(const char *text, size_t len, size_t offset, int *line, int *column)
{
    int l = 1, c = 1;
    if (offset > len)
        offset = len;
    for (size_t i = 0; i < offset; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *column = c;
}
