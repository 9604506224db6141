// Buffer views made from an ArrayBuffer, and the copy of a range through one:
// what the parser hands out as arguments and what the reply writer copies a
// cached value with (lib/util/bytes.ts, shared with the peer codec).
export { FastBuffer, bufferOf, byteOffsetOf, copyInto, type ViewOf } from '../util/bytes.js'
