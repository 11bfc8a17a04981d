//! Small whole-file operations of the storage layer, batched: one task on the libuv pool runs several.
//!
//! Through node:fs, writing a metadata file is four pool round trips (open, write, close, rename) and reading
//! one is up to four (stat, open, read, close): each costs the event loop a request and a wake-up of a pool
//! thread, and a 4 KiB PUT does about forty of them over four drives. Here each operation is one step of a
//! task, and the TS face (src-ts/files.ts) hands the operations asked for in one turn of the event loop
//! (the four drives of a metadata read, the requests of a busy server) to the pool as a few tasks: queueing
//! a task cost the event loop 10-20 us with four pool threads contending for libuv's queue (measured on 2
//! cores), more than the small reads and writes themselves. Each operation does what the node:fs sequence
//! did, in the same order, and fails with the OS error number (the TS face turns it into Node's `code`),
//! so callers keep their error handling.
use std::fs::{self, File, OpenOptions};
use std::io::{self, IoSlice, Read, Write};
use std::mem::ManuallyDrop;
use std::os::fd::{FromRawFd, IntoRawFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use highway::Key;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::frames::read_shard_frames;
use crate::highway::key_of;

/// A failed system call as an error the TS face can read back: `errno <n> <syscall>`.
pub(crate) fn os_error(e: io::Error, syscall: &str) -> Error {
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

/// `path`'s parent folder, made (mkdir -p) before a rename into it: a new object's folder costs mkdir + rename,
/// where a rename that failed for want of it, the mkdir and the rename again cost three system calls.
fn make_parent(path: &str) -> Result<()> {
    Path::new(path).parent().map_or(Ok(()), mkdirs)
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

/// The rest of `file`, expected to be `size` bytes (what a stat just said): one read(2) of size + 1 bytes when
/// that holds, where std's `read_to_end` costs an fstat, an lseek and a second read to see the end (a metadata
/// read on a PUT or an uncached GET was 7 system calls, now 4). Stops once `size` bytes came: they are the
/// file as of that stat (the caller's identity); more than `size` (it grew since): the rest is read too.
fn read_sized(file: &mut File, size: u64) -> io::Result<Vec<u8>> {
    let size = usize::try_from(size).unwrap_or(usize::MAX - 1);
    let want = size + 1;
    let mut bytes = vec![0u8; want];
    let mut n = 0;
    while n < want {
        match file.read(&mut bytes[n..]) {
            Ok(0) => break,
            Ok(k) => {
                n += k;
                if n == size {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    bytes.truncate(n);
    if n == want {
        file.read_to_end(&mut bytes)?;
    }
    bytes.shrink_to_fit();
    Ok(bytes)
}

/// The whole file, or None when it (or a parent) does not exist; `size`: its size from a stat just made (else
/// an fstat of the open file gives it).
fn read_whole(path: &str, size: Option<u64>) -> Result<Option<Vec<u8>>> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if absent(&e) => return Ok(None),
        Err(e) => return Err(os_error(e, "open")),
    };
    let size = match size {
        Some(s) => s,
        None => file.metadata().map_err(|e| os_error(e, "fstat"))?.len(),
    };
    let bytes = read_sized(&mut file, size).map_err(|e| os_error(e, "read"))?;
    Ok(Some(bytes))
}

/// Writes all of `bufs` at `fd`'s offset (one writev(2) when the kernel takes them whole). The fd stays open:
/// the caller owns it and keeps it open until this returns.
fn write_fd(fd: i32, bufs: &[Buffer]) -> io::Result<()> {
    // SAFETY: the caller keeps `fd` open for the duration of the call (see FILE_OP_WRITE_FD); ManuallyDrop
    // never closes it.
    let mut file = ManuallyDrop::new(unsafe { File::from_raw_fd(fd) });
    let mut slices: Vec<IoSlice> = bufs.iter().filter(|b| !b.is_empty()).map(|b| IoSlice::new(b)).collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match file.write_vectored(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(k) => IoSlice::advance_slices(&mut rest, k),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `write_fd`, then whether the file still has a name (fstat's link count), as `append_linked` but on an fd
/// kept open: false once another writer renamed a new file over it or removed it.
fn append_fd_linked(fd: i32, data: &Buffer) -> Result<bool> {
    write_fd(fd, std::slice::from_ref(data)).map_err(|e| os_error(e, "write"))?;
    // SAFETY: as in write_fd.
    let file = ManuallyDrop::new(unsafe { File::from_raw_fd(fd) });
    file.metadata().map(|m| m.nlink() > 0).map_err(|e| os_error(e, "fstat"))
}

/// One operation of a `fileOpsAsync` batch, as the TS face asks for it.
#[napi(object)]
pub struct FileOp {
    /// FILE_OP_READ, _WRITE, _APPEND, _APPEND_LINKED, _ATOMIC or _UNLINK.
    pub kind: u32,
    pub path: String,
    /// Read: the identity known ("" for none yet) to stat first and leave out unchanged bytes; absent: no stat.
    pub known: Option<String>,
    /// Write, append, atomic: the bytes.
    pub data: Option<Buffer>,
    /// Atomic: the file written first, then renamed to `path`.
    pub tmp: Option<String>,
    /// Atomic: `path`'s folder is most likely missing (a new object): made before the rename, not after it failed.
    pub fresh: Option<bool>,
    /// Shards: the shard files (`path` unused), the byte position in each, one buffer per file to read into.
    pub paths: Option<Vec<String>>,
    pub positions: Option<Vec<i64>>,
    pub outs: Option<Vec<Buffer>>,
    /// Shards: bytes per frame; the HighwayHash key (absent: read without checking, as `verify` false).
    pub stride: Option<u32>,
    pub key: Option<Buffer>,
    /// Write fd, append fd: an open file descriptor the caller keeps open until the operation settles.
    pub fd: Option<i32>,
    /// Write fd: the buffers, written in order.
    pub datas: Option<Vec<Buffer>>,
}

/// Whole file, or null when it (or a parent) is missing; with `known`, its identity too (see `read_if_changed`).
#[napi]
pub const FILE_OP_READ: u32 = 0;
/// Creates or truncates the file and writes the bytes (`write_whole`).
#[napi]
pub const FILE_OP_WRITE: u32 = 1;
/// Appends the bytes, the file created when missing.
#[napi]
pub const FILE_OP_APPEND: u32 = 2;
/// Appends, and tells whether the file still had its name once written (`append_linked`).
#[napi]
pub const FILE_OP_APPEND_LINKED: u32 = 3;
/// Writes `tmp`, renames it to `path` (whose parent is created when missing, first when `fresh`); `tmp` removed
/// on failure.
#[napi]
pub const FILE_OP_ATOMIC: u32 = 4;
/// Removes the file (unlink(2)); a missing one fails with ENOENT, as node's unlink.
#[napi]
pub const FILE_OP_UNLINK: u32 = 5;
/// Reads spans of shard files into `outs`, each frame's hash checked (`frames::read_shard_frames`), as
/// `readShardsFramesAsync` does: a GET's first batch in the same task as its metadata checks (one pool trip).
#[napi]
pub const FILE_OP_SHARDS: u32 = 6;
/// Writes `datas` at the offset of the open `fd` (`path` only names it in errors): the shard files of a block
/// written in one pool task (erasure/shard-writer.ts), not one task per drive.
#[napi]
pub const FILE_OP_WRITE_FD: u32 = 7;
/// Appends `data` to the open `fd` (opened for appending) and tells whether the file still had its name after
/// the write, as FILE_OP_APPEND_LINKED without the open and close (a listing journal kept open).
#[napi]
pub const FILE_OP_APPEND_FD: u32 = 8;

/// What one operation of a batch gave.
#[napi(object)]
pub struct FileOpResult {
    /// `errno <n> <syscall>` when it failed (nothing else is then set).
    pub error: Option<String>,
    /// Read: false when the file (or a parent) does not exist.
    pub found: bool,
    /// Read with `known`: the file's identity ("" otherwise).
    pub id: String,
    /// Read with `known`: the file's ctime in milliseconds since the epoch (0 otherwise).
    pub ctime_ms: f64,
    /// Read: the bytes, unless the identity was the one known.
    pub bytes: Option<Buffer>,
    /// Append linked: the file still had its name after the write.
    pub linked: bool,
    /// Shards: the frames that failed their check, per file.
    pub bad: Option<Vec<u32>>,
}

/// An operation with its inputs checked, ready for the pool.
pub enum Op {
    Read { path: String, known: Option<String> },
    Write { path: String, data: Buffer, append: bool },
    AppendLinked { path: String, data: Buffer },
    Atomic { tmp: String, data: Buffer, path: String, fresh: bool },
    Unlink { path: String },
    WriteFd { fd: i32, datas: Vec<Buffer> },
    AppendFd { fd: i32, data: Buffer },
    Shards { paths: Vec<String>, positions: Vec<i64>, outs: Vec<Buffer>, stride: usize, key: Option<Key> },
}

#[derive(Default)]
pub struct Done {
    found: bool,
    id: String,
    ctime_ms: f64,
    bytes: Option<Vec<u8>>,
    linked: bool,
    bad: Option<Vec<u32>>,
}

fn read_if_changed(path: &str, known: Option<&str>) -> Result<Done> {
    let Some(known) = known else {
        // No identity wanted: open + read + close (no stat).
        return Ok(read_whole(path, None)?.map_or_else(Done::default, |bytes| Done {
            found: true,
            bytes: Some(bytes),
            ..Done::default()
        }));
    };
    let (id, ctime_ms, size) = match fs::metadata(path) {
        Ok(m) => (identity(&m), m.ctime() as f64 * 1000.0 + m.ctime_nsec() as f64 / 1e6, m.size()),
        Err(e) if absent(&e) => return Ok(Done::default()),
        Err(e) => return Err(os_error(e, "stat")),
    };
    if id == known {
        return Ok(Done { found: true, id, ctime_ms, ..Done::default() });
    }
    // Read after the stat: if the file changes in between, the next stat differs from `id`.
    Ok(match read_whole(path, Some(size))? {
        Some(bytes) => Done { found: true, id, ctime_ms, bytes: Some(bytes), ..Done::default() },
        None => Done::default(),
    })
}

impl Op {
    fn run(&mut self) -> Result<Done> {
        match self {
            Op::Read { path, known } => read_if_changed(path, known.as_deref()),
            Op::Write { path, data, append } => write_whole(path, data, *append).map(|()| Done::default()),
            Op::AppendLinked { path, data } => {
                append_linked(path, data).map(|linked| Done { linked, ..Done::default() })
            }
            Op::Atomic { tmp, data, path, fresh } => write_whole(tmp, data, false)
                .and_then(|()| if *fresh { make_parent(path) } else { Ok(()) })
                .and_then(|()| rename_into(tmp, path))
                .inspect_err(|_| {
                    let _ = fs::remove_file(tmp);
                })
                .map(|()| Done::default()),
            Op::Unlink { path } => fs::remove_file(path).map(|()| Done::default()).map_err(|e| os_error(e, "unlink")),
            Op::WriteFd { fd, datas } => {
                write_fd(*fd, datas).map(|()| Done::default()).map_err(|e| os_error(e, "write"))
            }
            Op::AppendFd { fd, data } => append_fd_linked(*fd, data).map(|linked| Done { linked, ..Done::default() }),
            Op::Shards { paths, positions, outs, stride, key } => {
                let mut bad = Vec::with_capacity(paths.len());
                for ((path, position), out) in paths.iter().zip(positions.iter()).zip(outs.iter_mut()) {
                    bad.push(read_shard_frames(path, *position as u64, *stride, out, *key)?);
                }
                Ok(Done { bad: Some(bad), ..Done::default() })
            }
        }
    }
}

/// The task of `fileOpsAsync`.
pub struct FileOpsTask {
    ops: Vec<Op>,
}

#[napi]
impl Task for FileOpsTask {
    type Output = Vec<Result<Done>>;
    type JsValue = Vec<FileOpResult>;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(self.ops.iter_mut().map(Op::run).collect())
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Vec<FileOpResult>> {
        Ok(output
            .into_iter()
            .map(|r| match r {
                Ok(d) => FileOpResult {
                    error: None,
                    found: d.found,
                    id: d.id,
                    ctime_ms: d.ctime_ms,
                    bytes: d.bytes.map(Buffer::from),
                    linked: d.linked,
                    bad: d.bad,
                },
                Err(e) => FileOpResult {
                    error: Some(e.reason.clone()),
                    found: false,
                    id: String::new(),
                    ctime_ms: 0.0,
                    bytes: None,
                    linked: false,
                    bad: None,
                },
            })
            .collect())
    }
}

/// A FILE_OP_SHARDS operation with its arguments checked, as `readShardsFramesAsync` checks them.
fn shards_op(o: FileOp) -> Result<Op> {
    let (Some(paths), Some(positions), Some(outs), Some(stride)) = (o.paths, o.positions, o.outs, o.stride) else {
        return Err(Error::new(Status::InvalidArg, "file op shards needs paths, positions, outs and stride"));
    };
    crate::frames::check_shard_reads("file op shards", &paths, &positions, outs.len(), stride)?;
    let key = o.key.as_deref().map(key_of).transpose()?;
    Ok(Op::Shards { paths, positions, outs, stride: stride as usize, key })
}

/// Runs the operations one after the other in one task on the libuv pool; resolves one result per
/// operation, in order (a failed one carries `errno <n> <syscall>` and does not stop the others). Fails
/// as a whole only when an operation is malformed (an unknown kind, or data or tmp missing).
#[napi]
pub fn file_ops_async(ops: Vec<FileOp>) -> Result<AsyncTask<FileOpsTask>> {
    let ops = ops
        .into_iter()
        .map(|o| {
            let missing = |what: &str| Error::new(Status::InvalidArg, format!("file op {} needs {what}", o.kind));
            Ok(match o.kind {
                FILE_OP_READ => Op::Read { path: o.path, known: o.known },
                FILE_OP_WRITE | FILE_OP_APPEND => Op::Write {
                    data: o.data.ok_or_else(|| missing("data"))?,
                    path: o.path,
                    append: o.kind == FILE_OP_APPEND,
                },
                FILE_OP_APPEND_LINKED => {
                    Op::AppendLinked { data: o.data.ok_or_else(|| missing("data"))?, path: o.path }
                }
                FILE_OP_ATOMIC => Op::Atomic {
                    tmp: o.tmp.ok_or_else(|| missing("tmp"))?,
                    data: o.data.ok_or_else(|| missing("data"))?,
                    path: o.path,
                    fresh: o.fresh.unwrap_or(false),
                },
                FILE_OP_UNLINK => Op::Unlink { path: o.path },
                FILE_OP_SHARDS => shards_op(o)?,
                FILE_OP_WRITE_FD => Op::WriteFd {
                    fd: o.fd.filter(|&fd| fd >= 0).ok_or_else(|| missing("fd"))?,
                    datas: o.datas.ok_or_else(|| missing("datas"))?,
                },
                FILE_OP_APPEND_FD => Op::AppendFd {
                    fd: o.fd.filter(|&fd| fd >= 0).ok_or_else(|| missing("fd"))?,
                    data: o.data.ok_or_else(|| missing("data"))?,
                },
                k => return Err(Error::new(Status::InvalidArg, format!("unknown file op {k}"))),
            })
        })
        .collect::<Result<Vec<Op>>>()?;
    Ok(AsyncTask::new(FileOpsTask { ops }))
}
