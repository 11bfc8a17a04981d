// Benchmark inputs, generated once and cached under os.tmpdir()/cairn-select-bench: the same rows as CSV,
// JSON lines (written here) and Parquet (written by make_parquet.py with pyarrow from a Python venv).
// Row i: id=i, user=user{i%997}, amount=(i*7919)%100000 (so amount < 1000 selects 1%), color, ts, text.

import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { mkdir, open, rename, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const DIR = join(tmpdir(), 'cairn-select-bench');
const COLORS = ['red', 'green', 'blue', 'black'];

function ts(i: number): string {
  return new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString();
}

function csvRow(i: number): string {
  return `${i},user${i % 997},${(i * 7919) % 100000},${COLORS[i % 4]},${ts(i)},free text number ${i}\n`;
}

function jsonRow(i: number): string {
  return `{"id":${i},"user":"user${i % 997}","amount":${(i * 7919) % 100000},"color":"${COLORS[i % 4]}","ts":"${ts(i)}","text":"free text number ${i}"}\n`;
}

/** Writes rows until the file reaches `bytes`; a temp name and a rename keep a half-written file out of the cache. */
async function writeRows(path: string, bytes: number, row: (i: number) => string, header = ''): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    let written = 0;
    let i = 0;
    if (header) {
      await fh.write(header);
      written += header.length;
    }
    while (written < bytes) {
      const parts: string[] = [];
      let size = 0;
      while (size < 4 << 20 && written + size < bytes) {
        const r = row(i++);
        parts.push(r);
        size += r.length;
      }
      const buf = Buffer.from(parts.join(''));
      await fh.write(buf);
      written += buf.length;
    }
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

export async function csvFile(mb: number): Promise<string> {
  await mkdir(DIR, { recursive: true });
  const path = join(DIR, `rows-${mb}MB.csv`);
  if (!existsSync(path)) await writeRows(path, mb * 1024 * 1024, csvRow, 'id,user,amount,color,ts,text\n');
  return path;
}

export async function jsonFile(mb: number): Promise<string> {
  await mkdir(DIR, { recursive: true });
  const path = join(DIR, `rows-${mb}MB.jsonl`);
  if (!existsSync(path)) await writeRows(path, mb * 1024 * 1024, jsonRow);
  return path;
}

/** A Parquet file written by one of this folder's pyarrow scripts; undefined (and a note) without pyarrow. */
async function pythonParquet(script: string, name: string, rows: number, python: string): Promise<string | undefined> {
  await mkdir(DIR, { recursive: true });
  const path = join(DIR, name);
  if (existsSync(path)) return path;
  const file = fileURLToPath(new URL(script, import.meta.url));
  try {
    await promisify(execFile)(python, [file, String(rows), `${path}.tmp`], { maxBuffer: 1 << 20 });
  } catch (e) {
    console.error(`Parquet skipped: ${python} could not write it (${(e as Error).message.split('\n')[0]}).`);
    return undefined;
  }
  await rename(`${path}.tmp`, path);
  return path;
}

/** The rows of the CSV and JSON files as Parquet (make_parquet.py). */
export function parquetFile(rows: number, python: string): Promise<string | undefined> {
  return pythonParquet('./make_parquet.py', `rows-${rows}.parquet`, rows, python);
}

/** 20 columns in 20 row groups (make_wide_parquet.py): the side-by-side benchmark's Parquet object. */
export function wideParquetFile(rows: number, python: string): Promise<string | undefined> {
  return pythonParquet('./make_wide_parquet.py', `wide-${rows}.parquet`, rows, python);
}

export async function sizeOf(path: string): Promise<number> {
  return (await stat(path)).size;
}

/** The first `mb` MiB of the CSV, compressed: GZIP with node:zlib, BZIP2 with Python's bz2 module. */
export async function compressedCsv(mb: number, type: 'GZIP' | 'BZIP2', python: string): Promise<string | undefined> {
  const plain = await csvFile(mb);
  const path = `${plain}.${type === 'GZIP' ? 'gz' : 'bz2'}`;
  if (existsSync(path)) return path;
  if (type === 'GZIP') {
    await pipeline(createReadStream(plain), createGzip(), createWriteStream(`${path}.tmp`));
  } else {
    const code =
      'import bz2, shutil, sys\nwith open(sys.argv[1], "rb") as f, bz2.open(sys.argv[2], "wb") as g: shutil.copyfileobj(f, g, 1 << 20)';
    try {
      await promisify(execFile)(python, ['-c', code, plain, `${path}.tmp`]);
    } catch (e) {
      console.error(`BZIP2 skipped: ${python} could not write it (${(e as Error).message.split('\n')[0]}).`);
      return undefined;
    }
  }
  await rename(`${path}.tmp`, path);
  return path;
}
