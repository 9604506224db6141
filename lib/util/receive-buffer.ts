// A receive buffer that sockets read into without the stream path (net.connect's
// `onread`, lib/util/adopt-socket.ts), and the copies taken of each read.
import { Buffer } from 'node:buffer'
import { FastBuffer, bufferOf, byteOffsetOf, copyInto } from './bytes.js'

/**
 * The one buffer a server's sockets read into (the next read of any socket
 * overwrites it: reads run one at a time), and the copies taken of it. A
 * read's n bytes are copied by TypedArray#set from a view of the buffer's
 * first n bytes, made once for each n below VIEWS, not by Buffer#copy, which
 * loads the source's buffer and byteOffset through generic ICs and makes a
 * view at every call (~800 instructions a read more under callgrind: a SET or
 * GET -P1's every request; docs/performance.md, "Session 16, setmain16").
 * One per server (a RESP server, a peer transport), so the views are made once.
 */
export class ReceiveBuffer {
  static readonly VIEWS = 1024
  readonly bytes: Buffer
  private readonly views = new Array<Buffer | undefined>(ReceiveBuffer.VIEWS).fill(undefined)

  constructor (size: number) {
    this.bytes = Buffer.allocUnsafe(size)
  }

  /** A copy of the first n bytes: from Node's buffer pool below 4 KB. */
  copyOut (n: number): Buffer {
    const chunk = Buffer.allocUnsafe(n)
    copyInto.call(chunk, this.view(n), 0)
    return chunk
  }

  /** A view of the first n bytes, valid until the next read: made once for each n below VIEWS. */
  view (n: number): Buffer {
    if (n >= ReceiveBuffer.VIEWS) return new FastBuffer(bufferOf.call(this.bytes), byteOffsetOf.call(this.bytes), n)
    let view = this.views[n]
    if (view === undefined) {
      view = new FastBuffer(bufferOf.call(this.bytes), byteOffsetOf.call(this.bytes), n)
      this.views[n] = view
    }
    return view
  }
}
