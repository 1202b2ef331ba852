/**
 * The child side of the crash loop (test/integration/crash.test.ts): a real
 * process that loads its code, says `ready`, waits for `go` on stdin (so the
 * driver can start the next child while this one works), then repeats one
 * operation as fast as it can and prints `ack TOKEN` once the operation's
 * result is saved. The driver SIGKILLs it at a random moment. Pipes to the
 * driver are synchronous on Linux: a printed ack was written before the next
 * operation began.
 */
export async function childLoop(op: (n: number) => Promise<string | undefined>): Promise<never> {
  process.stdout.write('ready\n');
  await new Promise((r) => process.stdin.once('data', r));
  // Tokens must be unique across children: the driver passes this child's first number.
  const first = Number(process.env['VOUCH_CRASH_FIRST'] ?? '0');
  for (let n = first; ; n++) {
    const token = await op(n);
    if (token !== undefined) process.stdout.write(`ack ${token}\n`);
  }
}
