// Storage's whole-file kernels against the file system, read back with node:fs: whole writes, appends, atomic
// replacement (a missing parent created, the temp file gone after success and after failure), reads of
// present and absent files, the identity that lets a reader skip unchanged files, and failures carrying
// node:fs's error codes; operations asked for together (one pool task per queue) each with their own result,
// and a queue that hangs holding up no other.
import {
  mkdir,
  mkdtemp,
  readdir,
  readFile as fsReadFile,
  rename,
  rm,
  stat,
  utimes,
  writeFile as fsWriteFile,
} from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { closeSync, constants as fsConstants, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendFd,
  appendFileLinked,
  readFile,
  readFileIfChanged,
  writeFd,
  writeFile,
  writeFileAtomic,
} from '../index.js';
import { seededRandom } from '../../test/helpers/random.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFile', () => {
  it('creates, truncates and appends, byte for byte', async () => {
    const rnd = seededRandom();
    const p = join(dir, 'w1');
    const big = rnd.bytes(300_000);
    await writeFile(p, big);
    expect((await fsReadFile(p)).equals(big)).toBe(true);
    await writeFile(p, Buffer.from('short'));
    expect(await fsReadFile(p, 'utf8')).toBe('short');
    await writeFile(p, Buffer.from(' and more\n'), true);
    await writeFile(p, Buffer.from('last\n'), true);
    expect(await fsReadFile(p, 'utf8')).toBe('short and more\nlast\n');
    await writeFile(join(dir, 'fresh-append'), Buffer.from('x'), true);
    expect(await fsReadFile(join(dir, 'fresh-append'), 'utf8')).toBe('x');
  });

  it("fails with node:fs's error code and path, writing nothing", async () => {
    await fsWriteFile(join(dir, 'plain'), 'a file');
    const under = join(dir, 'plain', 'child');
    await expect(writeFile(under, Buffer.from('x'))).rejects.toMatchObject({
      code: 'ENOTDIR',
      syscall: 'open',
      path: under,
    });
    await expect(writeFile(join(dir, 'no-such-dir', 'f'), Buffer.from('x'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(writeFile(dir, Buffer.from('x'))).rejects.toMatchObject({ code: 'EISDIR' });
    expect(await fsReadFile(join(dir, 'plain'), 'utf8')).toBe('a file');
  });
});

describe('appendFileLinked', () => {
  it('appends, and tells whether the file still had its name after the write', async () => {
    const p = join(dir, 'journal');
    expect(await appendFileLinked(p, Buffer.from('one\n'))).toBe(true);
    expect(await appendFileLinked(p, Buffer.from('two\n'))).toBe(true);
    expect(await fsReadFile(p, 'utf8')).toBe('one\ntwo\n');
    // A file removed between appends is made again. (False needs the file replaced between the write and
    // the fstat of one call: server/test/storage/journal-shared.test.ts races a compaction for that.)
    await rm(p);
    expect(await appendFileLinked(p, Buffer.from('three\n'))).toBe(true);
    expect(await fsReadFile(p, 'utf8')).toBe('three\n');
    await expect(appendFileLinked(join(dir, 'no-such-dir', 'j'), Buffer.from('x'))).rejects.toMatchObject({
      code: 'ENOENT',
      syscall: 'open',
    });
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file by rename (a new inode) and leaves no temp file', async () => {
    const tmpDir = join(dir, 'tmp-a');
    await mkdir(tmpDir);
    const p = join(dir, 'atomic');
    await writeFileAtomic(join(tmpDir, 't1'), Buffer.from('one'), p);
    const first = await stat(p);
    await writeFileAtomic(join(tmpDir, 't2'), Buffer.from('two'), p);
    expect(await fsReadFile(p, 'utf8')).toBe('two');
    expect((await stat(p)).ino).not.toBe(first.ino);
    expect(await readdir(tmpDir)).toEqual([]);
  });

  it('creates the missing parents of the target', async () => {
    const tmpDir = join(dir, 'tmp-b');
    await mkdir(tmpDir);
    const p = join(dir, 'x', 'y', 'z', 'meta');
    await writeFileAtomic(join(tmpDir, 't'), Buffer.from('deep'), p);
    expect(await fsReadFile(p, 'utf8')).toBe('deep');
    expect(await readdir(tmpDir)).toEqual([]);
  });

  it('with `fresh` makes the folder first: a missing one, nested; an existing one is kept', async () => {
    const tmpDir = join(dir, 'tmp-f');
    await mkdir(tmpDir);
    const p = join(dir, 'f1', 'f2', 'meta');
    await writeFileAtomic(join(tmpDir, 't1'), Buffer.from('new'), p, undefined, true);
    expect(await fsReadFile(p, 'utf8')).toBe('new');
    await fsWriteFile(join(dir, 'f1', 'f2', 'other'), 'kept');
    await writeFileAtomic(join(tmpDir, 't2'), Buffer.from('again'), p, undefined, true);
    expect(await fsReadFile(p, 'utf8')).toBe('again');
    expect((await readdir(join(dir, 'f1', 'f2'))).sort()).toEqual(['meta', 'other']);
    expect(await readdir(tmpDir)).toEqual([]);
    // The mkdir comes before the rename: a file where the folder should be fails there, not in rename.
    await fsWriteFile(join(dir, 'f3'), 'a file');
    await expect(
      writeFileAtomic(join(tmpDir, 't3'), Buffer.from('x'), join(dir, 'f3', 'meta'), undefined, true),
    ).rejects.toMatchObject({ syscall: 'mkdir' });
    await expect(writeFileAtomic(join(tmpDir, 't4'), Buffer.from('x'), join(dir, 'f3', 'meta'))).rejects.toMatchObject({
      code: 'ENOTDIR',
      syscall: 'rename',
    });
    expect(await readdir(tmpDir)).toEqual([]);
  });

  it('removes the temp file when the rename fails, and keeps the old target', async () => {
    const tmpDir = join(dir, 'tmp-c');
    await mkdir(tmpDir);
    const target = join(dir, 'a-dir');
    await mkdir(join(target, 'inside'), { recursive: true });
    await expect(writeFileAtomic(join(tmpDir, 't'), Buffer.from('x'), target)).rejects.toMatchObject({
      code: 'EISDIR',
      syscall: 'rename',
    });
    expect(await readdir(tmpDir)).toEqual([]);
    expect(await readdir(target)).toEqual(['inside']);
    // The temp file itself cannot be written: nothing is renamed.
    await expect(
      writeFileAtomic(join(dir, 'missing', 't'), Buffer.from('x'), join(dir, 'never')),
    ).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
    await expect(stat(join(dir, 'never'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('readFile and readFileIfChanged', () => {
  it('read whole files; null when the file or a parent is missing', async () => {
    const p = join(dir, 'r1');
    const data = Buffer.alloc(70_000, 9);
    await fsWriteFile(p, data);
    expect((await readFile(p))!.equals(data)).toBe(true);
    await fsWriteFile(join(dir, 'empty'), '');
    expect((await readFile(join(dir, 'empty')))!.length).toBe(0);
    expect(await readFile(join(dir, 'absent'))).toBeNull();
    expect(await readFile(join(dir, 'plain', 'child'))).toBeNull();
    expect(await readFileIfChanged(join(dir, 'absent'), '')).toBeNull();
    await expect(readFile(dir)).rejects.toMatchObject({ code: 'EISDIR', syscall: 'read' });
  });

  it('leave the bytes out while the identity is the known one, and see replacements and in-place changes', async () => {
    const p = join(dir, 'r2');
    await fsWriteFile(p, 'first');
    const a = (await readFileIfChanged(p, ''))!;
    expect(a.bytes!.toString()).toBe('first');
    // ctimeMs is the file's ctime as node:fs reports it (both in ms with a fraction).
    expect(Math.abs(a.ctimeMs - (await stat(p)).ctimeMs)).toBeLessThan(0.01);
    const same = (await readFileIfChanged(p, a.id))!;
    expect(same).toEqual({ id: a.id, ctimeMs: a.ctimeMs });
    // Replaced by rename, same size: a new inode.
    await fsWriteFile(join(dir, 'r2.new'), 'again');
    await rename(join(dir, 'r2.new'), p);
    const b = (await readFileIfChanged(p, a.id))!;
    expect(b.id).not.toBe(a.id);
    expect(b.bytes!.toString()).toBe('again');
    // Changed in place, same size: mtime moves.
    await fsWriteFile(p, 'AGAIN');
    await utimes(p, new Date(), new Date(Date.now() + 5000));
    const c = (await readFileIfChanged(p, b.id))!;
    expect(c.id).not.toBe(b.id);
    expect(c.bytes!.toString()).toBe('AGAIN');
  });
});

describe('writeFd and appendFd (a file the caller keeps open)', () => {
  it('writeFd writes the buffers in order at the offset, leaves the file open; a closed fd fails with EBADF', async () => {
    const p = join(dir, 'shard');
    const fd = openSync(p, 'w');
    try {
      const parts = [Buffer.alloc(300_000, 1), Buffer.alloc(0), Buffer.from('tail'), Buffer.alloc(70_000, 2)];
      // Two writes of one queue asked together share a task, in order.
      await Promise.all([writeFd(fd, parts.slice(0, 2), p, 'block'), writeFd(fd, parts.slice(2), p, 'block')]);
      await writeFd(fd, [Buffer.from('!')], p);
      expect((await fsReadFile(p)).equals(Buffer.concat([...parts, Buffer.from('!')]))).toBe(true);
    } finally {
      closeSync(fd);
    }
    await expect(writeFd(fd, [Buffer.from('x')], p)).rejects.toMatchObject({
      code: 'EBADF',
      syscall: 'write',
      path: p,
    });
  });

  it('appendFd appends and tells whether the file still has its name: false once replaced or removed', async () => {
    const p = join(dir, 'kept-journal');
    const fd = openSync(p, 'a');
    try {
      expect(await appendFd(fd, Buffer.from('one\n'), p)).toBe(true);
      await fsWriteFile(`${p}.new`, 'compacted\n');
      await rename(`${p}.new`, p);
      // Written to the old file (gone): false, and the new file is untouched.
      expect(await appendFd(fd, Buffer.from('two\n'), p)).toBe(false);
      expect(await fsReadFile(p, 'utf8')).toBe('compacted\n');
    } finally {
      closeSync(fd);
    }
    const again = openSync(p, 'a');
    try {
      expect(await appendFd(again, Buffer.from('three\n'), p)).toBe(true);
      expect(await fsReadFile(p, 'utf8')).toBe('compacted\nthree\n');
      await rm(p);
      expect(await appendFd(again, Buffer.from('four\n'), p)).toBe(false);
    } finally {
      closeSync(again);
    }
  });
});

describe('readFile of a file larger than its stat says', () => {
  it('reads it whole (a /proc file stats as 0 bytes)', async () => {
    const got = (await readFile('/proc/self/status'))!.toString();
    expect(got.startsWith('Name:')).toBe(true);
    expect(got.endsWith('\n')).toBe(true);
    expect(got.split('\n').length).toBeGreaterThan(20);
    expect(readFileSync('/proc/self/status', 'utf8').split('\n').length).toBe(got.split('\n').length);
  });
});

describe('operations asked for together', () => {
  it('each get their own result or error, in one queue or in several', async () => {
    const p = join(dir, 'together');
    await mkdir(p);
    await fsWriteFile(join(p, 'present'), 'here');
    await fsWriteFile(join(p, 'plain'), 'a file');
    const asked = Array.from({ length: 40 }, (_, i) => {
      const queue = i % 3 === 0 ? undefined : `q${i % 2}`;
      const name = join(p, `w${i}`);
      switch (i % 4) {
        case 0:
          return writeFile(name, Buffer.from(`w${i}`), false, queue).then(() => fsReadFile(name, 'utf8'));
        case 1:
          return readFile(join(p, 'present'), queue).then((b) => b?.toString());
        case 2:
          return readFile(join(p, `absent${i}`), queue);
        default:
          return writeFile(join(p, 'plain', `x${i}`), Buffer.from('x'), false, queue).catch((e) => e.code);
      }
    });
    const got = await Promise.all(asked);
    got.forEach((g, i) => expect(g).toBe([`w${i}`, 'here', null, 'ENOTDIR'][i % 4]));
  });

  it('in another queue do not wait for one that hangs', async () => {
    // Opening a FIFO for reading blocks until a writer opens it, as a read on a hung drive does.
    const fifo = join(dir, 'hung-fifo');
    execFileSync('mkfifo', [fifo]);
    await fsWriteFile(join(dir, 'healthy'), 'fine');
    const stuck = readFile(fifo, 'hung-drive');
    const other = readFile(join(dir, 'healthy'), 'healthy-drive');
    expect((await other)?.toString()).toBe('fine');
    closeSync(openSync(fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK));
    expect((await stuck)?.length).toBe(0);
  });
});
