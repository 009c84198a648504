/**
 * One status line on stderr that rewrites itself while long work runs (an upload, a
 * load), when stderr is a terminal; elsewhere only the final line is written, so logs
 * and pipes get no carriage returns.
 */
export class ProgressLine {
  private lastLength = 0;
  private readonly live: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.live = stream.isTTY === true;
  }

  update(text: string): void {
    if (!this.live) return;
    const padding = ' '.repeat(Math.max(0, this.lastLength - text.length));
    this.stream.write(`\r${text}${padding}`);
    this.lastLength = text.length;
  }

  done(text: string): void {
    if (this.live) this.update(text);
    else this.stream.write(text);
    this.stream.write('\n');
    this.lastLength = 0;
  }
}

/** 1536 -> "1.5 KiB". */
export function byteText(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit] as string}`;
}
