//! Small whole-file operations of the storage layer, each one task on the libuv pool.
//!
//! Through node:fs, writing a metadata file is four pool round trips (open, write, close, rename) and reading
//! one is up to four (stat, open, read, close): each costs the event loop a request and a wake-up of a pool
//! thread, and a 4 KiB PUT does about forty of them over four drives. Here each operation is one task. They
//! do what the node:fs sequences did, in the same order, and fail with the OS error number (the TS face
//! turns it into Node's `code`), so callers keep their error handling.
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::IntoRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use napi::bindgen_prelude::*;
use napi_derive::napi;

/// A failed system call as an error the TS face can read back: `errno <n> <syscall>`.
fn os_error(e: io::Error, syscall: &str) -> Error {
    let errno = e.raw_os_error().unwrap_or(libc::EIO);
    Error::new(Status::GenericFailure, format!("errno {errno} {syscall}"))
}

/// close(2) with its error: a failed close can lose written data (e.g. ENOSPC on a network file system).
fn close_checked(file: File) -> io::Result<()> {
    let fd = file.into_raw_fd();
    // SAFETY: `fd` was just released by `into_raw_fd`, so nothing else owns or closes it.
    if unsafe { libc::close(fd) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Creates or truncates (`append`: appends to) `path` and writes all of `data`, then closes it.
fn write_whole(path: &str, data: &[u8], append: bool) -> Result<()> {
    let mut options = OpenOptions::new();
    if append {
        options.append(true).create(true);
    } else {
        options.write(true).create(true).truncate(true);
    }
    let mut file = options.open(path).map_err(|e| os_error(e, "open"))?;
    let written = file.write_all(data);
    let closed = close_checked(file);
    written.map_err(|e| os_error(e, "write"))?;
    closed.map_err(|e| os_error(e, "close"))
}

/// Appends all of `data` to `path` (created when missing) and tells whether the file still had a name once
/// written (fstat's link count before close): false when another process renamed a new file over it or
/// removed it meanwhile (a listing journal being compacted), so the appended bytes may be lost with it.
fn append_linked(path: &str, data: &[u8]) -> Result<bool> {
    let mut file = OpenOptions::new().append(true).create(true).open(path).map_err(|e| os_error(e, "open"))?;
    let written = file.write_all(data).map_err(|e| os_error(e, "write"));
    let linked = written.and_then(|()| file.metadata().map(|m| m.nlink() > 0).map_err(|e| os_error(e, "fstat")));
    let closed = close_checked(file);
    let linked = linked?;
    closed.map_err(|e| os_error(e, "close"))?;
    Ok(linked)
}

/// mkdir -p, tried again when a concurrent cleanup removes a parent between the steps (as `LocalDrive.mkdirs`).
fn mkdirs(dir: &Path) -> Result<()> {
    for attempt in 0.. {
        match fs::create_dir_all(dir) {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 5 && matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => continue,
            Err(e) => return Err(os_error(e, "mkdir")),
        }
    }
    unreachable!()
}

/// rename(2), the target's parent created when missing (a concurrent cleanup may remove it).
fn rename_into(from: &str, to: &str) -> Result<()> {
    for attempt in 0.. {
        match fs::rename(from, to) {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 3 && e.raw_os_error() == Some(libc::ENOENT) => {
                if let Some(parent) = Path::new(to).parent() {
                    mkdirs(parent)?;
                }
            }
            Err(e) => return Err(os_error(e, "rename")),
        }
    }
    unreachable!()
}

/// The identity of a file's contents as stat sees it: inode, size, mtime and ctime (nanoseconds). A file
/// replaced by rename has a new inode; one changed in place a new mtime (and ctime).
fn identity(m: &fs::Metadata) -> String {
    format!("{}:{}:{}.{}:{}.{}", m.ino(), m.size(), m.mtime(), m.mtime_nsec(), m.ctime(), m.ctime_nsec())
}

fn absent(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR))
}

/// The whole file, or None when it (or a parent) does not exist.
fn read_whole(path: &str) -> Result<Option<Vec<u8>>> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if absent(&e) => return Ok(None),
        Err(e) => return Err(os_error(e, "open")),
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|e| os_error(e, "read"))?;
    bytes.shrink_to_fit();
    Ok(Some(bytes))
}

/// The task of `writeFileAsync`.
pub struct WriteFileTask {
    path: String,
    data: Buffer,
    append: bool,
}

#[napi]
impl Task for WriteFileTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        write_whole(&self.path, &self.data, self.append)
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}

/// Writes `data` as the whole file `path` (created or truncated), or appends it (`append`), and closes it:
/// open + write + close in one task on the libuv pool. Fails with `errno <n> <syscall>`.
#[napi]
pub fn write_file_async(path: String, data: Buffer, append: bool) -> AsyncTask<WriteFileTask> {
    AsyncTask::new(WriteFileTask { path, data, append })
}

/// The task of `appendFileLinkedAsync`.
pub struct AppendLinkedTask {
    path: String,
    data: Buffer,
}

#[napi]
impl Task for AppendLinkedTask {
    type Output = bool;
    type JsValue = bool;

    fn compute(&mut self) -> Result<bool> {
        append_linked(&self.path, &self.data)
    }

    fn resolve(&mut self, _env: Env, output: bool) -> Result<bool> {
        Ok(output)
    }
}

/// Appends `data` to `path` (created when missing) and closes it; resolves whether the file still had its
/// name after the write (see `append_linked`). One task on the libuv pool. Fails with `errno <n> <syscall>`.
#[napi]
pub fn append_file_linked_async(path: String, data: Buffer) -> AsyncTask<AppendLinkedTask> {
    AsyncTask::new(AppendLinkedTask { path, data })
}

/// The task of `writeFileAtomicAsync`.
pub struct WriteAtomicTask {
    tmp: String,
    data: Buffer,
    path: String,
}

#[napi]
impl Task for WriteAtomicTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        write_whole(&self.tmp, &self.data, false).and_then(|()| rename_into(&self.tmp, &self.path)).inspect_err(|_| {
            let _ = fs::remove_file(&self.tmp);
        })
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}

/// Writes `data` to the file `tmp` and renames it to `path` (whose parent is created when missing), so
/// readers see the old file or the new one; on failure `tmp` is removed. One task on the libuv pool.
#[napi]
pub fn write_file_atomic_async(tmp: String, data: Buffer, path: String) -> AsyncTask<WriteAtomicTask> {
    AsyncTask::new(WriteAtomicTask { tmp, data, path })
}

/// What `readFileAsync` found: the file's identity, and its bytes unless the identity was the one known.
#[napi(object)]
pub struct FileRead {
    pub id: String,
    /// The file's ctime in milliseconds since the epoch (0 when no identity was asked for).
    pub ctime_ms: f64,
    pub bytes: Option<Buffer>,
}

/// The task of `readFileAsync`.
pub struct ReadFileTask {
    path: String,
    known: Option<String>,
}

#[napi]
impl Task for ReadFileTask {
    /// (identity, ctime in ms, bytes)
    type Output = Option<(String, f64, Option<Vec<u8>>)>;
    type JsValue = Option<FileRead>;

    fn compute(&mut self) -> Result<Self::Output> {
        let Some(known) = &self.known else {
            // No identity wanted: open + read + close (no stat).
            return Ok(read_whole(&self.path)?.map(|bytes| (String::new(), 0.0, Some(bytes))));
        };
        let (id, ctime_ms) = match fs::metadata(&self.path) {
            Ok(m) => (identity(&m), m.ctime() as f64 * 1000.0 + m.ctime_nsec() as f64 / 1e6),
            Err(e) if absent(&e) => return Ok(None),
            Err(e) => return Err(os_error(e, "stat")),
        };
        if &id == known {
            return Ok(Some((id, ctime_ms, None)));
        }
        // Read after the stat: if the file changes in between, the next stat differs from `id`.
        Ok(read_whole(&self.path)?.map(|bytes| (id, ctime_ms, Some(bytes))))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Option<FileRead>> {
        Ok(output.map(|(id, ctime_ms, bytes)| FileRead { id, ctime_ms, bytes: bytes.map(Buffer::from) }))
    }
}

/// Reads the whole file `path`; null when it (or a parent) does not exist. With `known` (the identity an
/// earlier call returned, or "" for none yet), stats it first and returns its identity too, without the
/// bytes when that is still `known`. One task on the libuv pool. Fails with `errno <n> <syscall>`.
#[napi]
pub fn read_file_async(path: String, known: Option<String>) -> AsyncTask<ReadFileTask> {
    AsyncTask::new(ReadFileTask { path, known })
}
