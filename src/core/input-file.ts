/**
 * Opening the files a user hands tide to read (tide.yaml, traces, access logs, manifests) so
 * that hostile ones cannot hang or exhaust it: only regular files are read (a FIFO would block
 * forever waiting for a writer, /dev/zero or /dev/urandom would never end), and a whole-file
 * read is refused above a size limit before any byte is read. The file is opened non-blocking
 * and checked through its descriptor (fstat), so that the check and the read are of the same
 * file: there is no window to swap a FIFO in after a stat of the path.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs'
import { FileError } from '../errors.ts'

/** What kind of file a stat describes, for messages: "a FIFO", "a directory", "a character device". */
function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)'
  if (st.isDirectory()) return 'a directory'
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  if (st.isSocket()) return 'a socket'
  return 'not a regular file'
}

/**
 * Opens `path` for reading if it is a regular file (symbolic links followed) and returns its
 * descriptor and size in bytes; the caller closes the descriptor. Throws FileError
 * (TIDE_ERR_FILE) naming the path when it cannot be opened or is anything else than a regular
 * file. Never blocks: the open is O_NONBLOCK, which a FIFO without a writer would otherwise wait on.
 */
export function openRegularFile(path: string): { readonly fd: number; readonly size: number } {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (err) {
    throw new FileError(path, 'read', err)
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) throw new FileError(path, 'read', new Error(`it is ${kindOf(st)}; tide reads only regular files`))
    return { fd, size: st.size }
  } catch (err) {
    closeSync(fd)
    if (err instanceof FileError) throw err
    throw new FileError(path, 'read', err)
  }
}

/**
 * The whole text (UTF-8) of the regular file at `path` as it was when opened (bytes appended
 * meanwhile are not read), refused with FileError when it is larger than `maxBytes` (the
 * message names the size and the limit) or not a regular file.
 */
export function readRegularFile(path: string, maxBytes: number): string {
  const { fd, size } = openRegularFile(path)
  try {
    if (size > maxBytes) {
      throw new FileError(path, 'read', new Error(`it is ${size} bytes, more than the ${maxBytes} bytes tide reads from such a file`))
    }
    // Exactly the bytes fstat counted: a file that grows while it is read (a log being written) stays bounded.
    const buffer = Buffer.allocUnsafe(size)
    let filled = 0
    while (filled < size) {
      const n = readSync(fd, buffer, filled, size - filled, filled)
      if (n === 0) break
      filled += n
    }
    return buffer.toString('utf8', 0, filled)
  } catch (err) {
    if (err instanceof FileError) throw err
    throw new FileError(path, 'read', err)
  } finally {
    closeSync(fd)
  }
}
