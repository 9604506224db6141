import { Buffer } from 'node:buffer'
// Inline commands (`PING\r\n`, what telnet users and redis-benchmark's
// PING_INLINE send) are split exactly as Redis's sdssplitargs() splits them:
//
//   SET "a b" 'c\'d' "\x41\n"   →   SET · a b · c'd · A<LF>
//
// - arguments are separated by blanks (space, \t, \n, \r, \v, \f: C isspace);
//   an unquoted argument ends only at space, \t, \n or \r, so `a\vb` is one
//   argument, as in Redis;
// - "double quotes" understand \n \r \t \b \a, \xHH (two hex digits) and
//   \<any other char> for that char;
// - 'single quotes' understand only \' ;
// - a quote may start mid-argument (`foo"bar baz"` is `foobar baz`), but a
//   closing quote must be followed by a blank or the end of the line;
// - an unterminated quote makes the whole line invalid (null).

/** C isspace() in the "C" locale. */
function isSpace (c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13)
}

function isHex (c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)
}

function hexValue (c: number): number {
  if (c <= 57) return c - 48
  if (c >= 97) return c - 87
  return c - 55
}

/**
 * Splits one inline line (without its `\n` / `\r\n`) into arguments, or
 * returns null for unbalanced quotes. The line must hold no NUL byte (Redis
 * never gets that far with one; RequestParser checks first). Arguments
 * without quotes are views of `line`; quoted ones are fresh Buffers.
 */
export function splitInlineArgs (line: Buffer): Buffer[] | null {
  const args: Buffer[] = []
  const end = line.length
  let p = 0
  for (;;) {
    while (p < end && isSpace(line[p])) p++
    if (p >= end) return args
    const start = p
    // Bytes of a quoted argument, filled only once a quote has been seen.
    let out: Buffer | null = null
    let n = 0
    let inq = false
    let insq = false
    let done = false
    let stop = start
    while (!done) {
      const c = p < end ? line[p] : 0
      if (inq) {
        const out_ = out as Buffer
        if (c === 92 && p + 3 < end && line[p + 1] === 120 && isHex(line[p + 2]) && isHex(line[p + 3])) {
          out_[n++] = hexValue(line[p + 2]) * 16 + hexValue(line[p + 3])
          p += 3
        } else if (c === 92 && p + 1 < end) {
          p++
          const e = line[p]
          out_[n++] = e === 110 ? 10 : e === 114 ? 13 : e === 116 ? 9 : e === 98 ? 8 : e === 97 ? 7 : e
        } else if (c === 34) {
          if (p + 1 < end && !isSpace(line[p + 1])) return null
          done = true
        } else if (p >= end) {
          return null
        } else {
          out_[n++] = c
        }
      } else if (insq) {
        const out_ = out as Buffer
        if (c === 92 && p + 1 < end && line[p + 1] === 39) {
          p++
          out_[n++] = 39
        } else if (c === 39) {
          if (p + 1 < end && !isSpace(line[p + 1])) return null
          done = true
        } else if (p >= end) {
          return null
        } else {
          out_[n++] = c
        }
      } else if (p >= end || c === 32 || c === 10 || c === 13 || c === 9) {
        // Only an argument without quotes ends here: a quoted one ends at
        // its closing quote.
        done = true
        stop = p
      } else if (c === 34 || c === 39) {
        // The first quote of the argument (a closing quote ends it): copy
        // what came before it; the argument is never longer than the rest
        // of the line.
        out = Buffer.allocUnsafe(end - start)
        n = line.copy(out, 0, start, p)
        if (c === 34) inq = true
        else insq = true
      }
      if (p < end) p++
    }
    args.push(out === null ? line.subarray(start, stop) : out.subarray(0, n))
  }
}
