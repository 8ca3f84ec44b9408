import type { Readable } from 'node:stream';
import { CliFailure } from './cli-errors.js';

// A policy-valid password is at most 128 code points (512 bytes of UTF-8); anything far longer
// is a wrong file on stdin, and must not be read into memory whole.
const MAX_LINE_BYTES = 4096;

/**
 * The first line of `input`, without one trailing `\n` or `\r\n`, decoded as strict UTF-8.
 * Stops reading at the first newline, so a password file may carry comments after it.
 */
export async function readFirstLine(input: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  let sawData = false;
  let endedByNewline = false;
  for await (const chunk of input) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
    sawData ||= buffer.length > 0;
    const newline = buffer.indexOf(0x0a);
    const part = newline === -1 ? buffer : buffer.subarray(0, newline);
    size += part.length;
    if (size > MAX_LINE_BYTES) throw new CliFailure(`the first line of standard input is longer than ${MAX_LINE_BYTES} bytes`);
    chunks.push(part);
    if (newline !== -1) {
      endedByNewline = true;
      break;
    }
  }
  if (!sawData) throw new CliFailure('no password on standard input');
  let line = Buffer.concat(chunks);
  if (endedByNewline && line.at(-1) === 0x0d) line = line.subarray(0, -1);
  try {
    // ignoreBOM keeps every byte the user gave: the password is exactly the line.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(line);
  } catch {
    throw new CliFailure('the password on standard input is not valid UTF-8');
  }
}
