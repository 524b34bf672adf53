/**
 * Progress of a long operation: a redrawn bar on a terminal, plain lines (every 10%) otherwise, so
 * logs and CI output stay readable.
 */
export class Progress {
  private lastPlainStep = -1;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, detail = ''): void {
    const ratio = this.total > 0 ? Math.min(1, done / this.total) : 1;
    if (this.out.isTTY) {
      const width = 30;
      const filled = Math.round(ratio * width);
      this.out.write(
        `\r${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${this.total}${detail ? ` ${detail}` : ''}\x1b[K`,
      );
    } else {
      const step = Math.floor(ratio * 10);
      if (step === this.lastPlainStep) return;
      this.lastPlainStep = step;
      this.out.write(`${this.label}: ${done}/${this.total}${detail ? ` ${detail}` : ''}\n`);
    }
  }

  done(summary: string): void {
    this.out.write(this.out.isTTY ? `\r${summary}\x1b[K\n` : `${summary}\n`);
  }
}
