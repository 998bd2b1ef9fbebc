/**
 * Counts the commands in a client's byte stream to Redis (RESP arrays of bulk strings, or inline
 * commands), chunk by chunk, without buffering the payloads: a node's round trips, which INFO
 * commandstats cannot tell apart from the calls its Lua scripts make.
 */
export class RespCounter {
  commands = 0;
  private state: 'start' | 'header' | 'inline' | 'length' | 'payload' = 'start';
  private line = '';
  private argsLeft = 0;
  private skip = 0;

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'payload') {
        const take = Math.min(this.skip, chunk.length - i);
        i += take;
        this.skip -= take;
        if (this.skip === 0) this.endArgument();
        continue;
      }
      if (this.state === 'start') {
        this.state = chunk[i] === 0x2a /* '*' */ ? 'header' : 'inline';
        this.line = '';
      }
      const end = chunk.indexOf(0x0a /* '\n' */, i);
      if (end === -1) {
        this.line += chunk.toString('latin1', i);
        return;
      }
      this.line += chunk.toString('latin1', i, end);
      i = end + 1;
      this.endLine(this.line.replace(/\r$/, ''));
      this.line = '';
    }
  }

  private endLine(line: string): void {
    if (this.state === 'inline') {
      if (line.trim() !== '') this.commands++;
      this.state = 'start';
    } else if (this.state === 'header') {
      this.argsLeft = Number(line.slice(1));
      if (this.argsLeft > 0) this.state = 'length';
      else this.state = 'start';
    } else if (this.state === 'length') {
      // The payload, then its CRLF.
      this.skip = Number(line.slice(1)) + 2;
      this.state = 'payload';
    }
  }

  private endArgument(): void {
    this.argsLeft--;
    if (this.argsLeft > 0) {
      this.state = 'length';
      return;
    }
    this.commands++;
    this.state = 'start';
  }
}
