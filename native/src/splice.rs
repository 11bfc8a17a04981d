//! Moves a body from one TCP socket to another inside the kernel: splice(2) from the source socket into a
//! pipe and from the pipe into the destination socket, so the bytes never enter the process (no copy out
//! of the source's receive queue, none into the destination's send queue, no JavaScript per chunk).
//!
//! The S3 gateway uses it for an object's bytes coming from its backend over plain HTTP and going to a
//! client over plain HTTP: node has no splice, and its socket-to-socket path costs two kernel copies and a
//! trip through the stream and http code for every read (bench/s3gw). One thread per transfer (the libuv
//! pool is not blocked by sockets that wait on the network); it works on duplicates of both descriptors,
//! so node closing its own descriptor meanwhile cannot make it write to another file, and closes them as
//! soon as the transfer ends (the client then sees the connection close when node closes it).
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use napi::bindgen_prelude::*;
use napi_derive::napi;

/// The pipe's capacity asked for (F_SETPIPE_SZ; the kernel's default is 64 KiB, its limit for
/// unprivileged users 1 MiB): fewer trips through the loop for a fast pair of sockets.
const PIPE_BYTES: i32 = 1024 * 1024;
/// Largest single splice asked for.
const STEP: usize = 1024 * 1024;
/// A transfer thread's stack: it holds a few locals and calls the kernel (the default is 2 MiB per thread).
const STACK_BYTES: usize = 64 * 1024;

fn dup(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC only reads `fd`; a failure is reported through the return value.
    let n = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `n` is a descriptor this process just received and nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

/// A non-blocking pipe: (read end, write end).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a writable array of two ints, as pipe2 requires.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nobody else.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: a size change of a pipe this function owns; a refusal (over the limit) keeps the default size.
    unsafe { libc::fcntl(w.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE_BYTES) };
    Ok((r, w))
}

/// One non-blocking splice; Ok(None) when it would block.
fn splice_once(from: RawFd, to: RawFd, len: usize, more: bool) -> io::Result<Option<usize>> {
    let mut flags = libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK;
    if more {
        flags |= libc::SPLICE_F_MORE;
    }
    loop {
        // SAFETY: null offsets (both ends are a socket or a pipe); the kernel checks both descriptors.
        let n = unsafe { libc::splice(from, std::ptr::null_mut(), to, std::ptr::null_mut(), len, flags) };
        if n >= 0 {
            return Ok(Some(n as usize));
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::WouldBlock => return Ok(None),
            io::ErrorKind::Interrupted => continue,
            _ => return Err(e),
        }
    }
}

/// Waits until `from` is readable (when `want_in`) or `to` writable (when `want_out`); false on `idle_ms`.
fn wait(from: RawFd, to: RawFd, want_in: bool, want_out: bool, idle_ms: i32) -> io::Result<bool> {
    let mut fds = [
        libc::pollfd { fd: if want_in { from } else { -1 }, events: libc::POLLIN, revents: 0 },
        libc::pollfd { fd: if want_out { to } else { -1 }, events: libc::POLLOUT, revents: 0 },
    ];
    loop {
        // SAFETY: `fds` is an array of two pollfd (a negative fd is skipped by poll).
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, idle_ms) };
        if n >= 0 {
            return Ok(n > 0);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Bytes in a TCP socket's send queue that the peer has not acknowledged yet (SIOCOUTQ); None if the kernel does
/// not say. A client that reads, however slowly, makes this shrink.
fn queued(fd: RawFd) -> Option<i32> {
    let mut n: libc::c_int = 0;
    // SAFETY: TIOCOUTQ (SIOCOUTQ on a socket) writes one int through the pointer; a failure is the return value.
    (unsafe { libc::ioctl(fd, libc::TIOCOUTQ, &mut n) } == 0).then_some(n)
}

#[derive(Debug)]
enum Failure {
    Os(io::Error, &'static str),
    /// The source ended before `bytes` came.
    Short(u64),
    /// Neither socket moved, and the destination's send queue did not shrink, for `idle_ms`.
    Idle,
}

/// Moves exactly `bytes` from `from` to `to` (both non-blocking sockets) through a pipe.
fn transfer(from: RawFd, to: RawFd, bytes: u64, idle_ms: i32) -> std::result::Result<u64, Failure> {
    let (pr, pw) = pipe().map_err(|e| Failure::Os(e, "pipe"))?;
    let (pr, pw) = (pr.as_raw_fd(), pw.as_raw_fd());
    let mut left = bytes; // not yet taken from the source
    let mut held = 0usize; // in the pipe
    while left > 0 || held > 0 {
        let mut moved = false;
        let mut want_in = false;
        let mut want_out = false;
        if left > 0 {
            let len = usize::try_from(left).unwrap_or(usize::MAX).min(STEP);
            match splice_once(from, pw, len, false).map_err(|e| Failure::Os(e, "splice"))? {
                Some(0) => return Err(Failure::Short(bytes - left)),
                Some(n) => {
                    left -= n as u64;
                    held += n;
                    moved = true;
                }
                // Nothing to read, or (with bytes held) the pipe is out of room: emptied below first.
                None => want_in = held == 0,
            }
        }
        if held > 0 {
            match splice_once(pr, to, held, left > 0).map_err(|e| Failure::Os(e, "splice"))? {
                Some(n) => {
                    held -= n;
                    moved |= n > 0;
                }
                None => want_out = true,
            }
        }
        if moved || !(want_in || want_out) {
            continue;
        }
        // POLLOUT on a TCP socket needs about a third of its send buffer free: a client reading slowly but
        // steadily can take longer than the idle time to free that much. A timeout counts as idle only if the
        // client's send queue did not shrink meanwhile; if it did, the splice is tried again (it takes any room).
        let before = if want_out { queued(to) } else { None };
        if !wait(from, to, want_in, want_out, idle_ms).map_err(|e| Failure::Os(e, "poll"))?
            && !matches!((before, queued(to)), (Some(b), Some(a)) if a < b)
        {
            return Err(Failure::Idle);
        }
    }
    Ok(bytes)
}

/// Moves exactly `bytes` from socket `fromFd` to socket `toFd` in the kernel, on a thread of its own.
/// Both are connected TCP sockets in non-blocking mode (node's); nothing else may read `fromFd` or write
/// `toFd` until the promise settles. Resolves with `bytes`; rejects with `errno <n> <syscall>`, `short <n>`
/// (the source ended after n bytes) or `idle` (neither socket moved for `idleMs`, nor did the peer of `toFd`
/// take any of what `toFd` holds queued).
#[napi(ts_return_type = "Promise<number>")]
pub fn splice_sockets(env: &Env, from_fd: i32, to_fd: i32, bytes: i64, idle_ms: u32) -> Result<Object<'_>> {
    if from_fd < 0 || to_fd < 0 || bytes < 0 {
        return Err(Error::new(Status::InvalidArg, "spliceSockets: negative descriptor or length"));
    }
    let from = dup(from_fd).map_err(|e| crate::files::os_error(e, "fcntl"))?;
    let to = dup(to_fd).map_err(|e| crate::files::os_error(e, "fcntl"))?;
    let idle = i32::try_from(idle_ms).unwrap_or(i32::MAX);
    let (deferred, promise) = env.create_deferred()?;
    std::thread::Builder::new()
        .name("cairn-splice".into())
        .stack_size(STACK_BYTES)
        .spawn(move || {
            let out = transfer(from.as_raw_fd(), to.as_raw_fd(), bytes as u64, idle);
            drop((from, to)); // closed before node hears of the end
            match out {
                Ok(n) => deferred.resolve(move |_| Ok(n as f64)),
                Err(Failure::Os(e, call)) => deferred.reject(crate::files::os_error(e, call)),
                Err(Failure::Short(n)) => deferred.reject(Error::new(Status::GenericFailure, format!("short {n}"))),
                Err(Failure::Idle) => deferred.reject(Error::new(Status::GenericFailure, "idle")),
            }
        })
        .map_err(|e| crate::files::os_error(e, "clone"))?;
    Ok(promise)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    /// A connected pair of loopback TCP sockets.
    fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        (a, b)
    }

    #[test]
    fn moves_exactly_the_bytes_asked_for_and_leaves_the_rest() {
        let (mut src_w, src_r) = pair();
        let (dst_w, mut dst_r) = pair();
        src_r.set_nonblocking(true).unwrap();
        dst_w.set_nonblocking(true).unwrap();
        let body: Vec<u8> = (0..5_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        let sent = body.clone();
        let writer = std::thread::spawn(move || {
            src_w.write_all(&sent).unwrap();
            src_w.write_all(b"NEXT").unwrap();
            src_w
        });
        let reader = std::thread::spawn(move || {
            let mut got = vec![0u8; 4_000_000];
            dst_r.read_exact(&mut got).unwrap();
            got
        });
        assert_eq!(transfer(src_r.as_raw_fd(), dst_w.as_raw_fd(), 4_000_000, 10_000).unwrap(), 4_000_000);
        assert_eq!(reader.join().unwrap(), body[..4_000_000]);
        let _w = writer.join().unwrap();
        // What follows the body stays in the source for its next reader.
        src_r.set_nonblocking(false).unwrap();
        let mut rest = vec![0u8; 1_000_004];
        (&src_r).read_exact(&mut rest).unwrap();
        assert_eq!(&rest[..1_000_000], &body[4_000_000..]);
        assert_eq!(&rest[1_000_000..], b"NEXT");
    }

    #[test]
    fn a_source_that_ends_early_is_short_and_an_idle_one_times_out() {
        let (mut src_w, src_r) = pair();
        let (dst_w, _dst_r) = pair();
        src_r.set_nonblocking(true).unwrap();
        dst_w.set_nonblocking(true).unwrap();
        src_w.write_all(&[7u8; 1000]).unwrap();
        assert!(matches!(transfer(src_r.as_raw_fd(), dst_w.as_raw_fd(), 2000, 200), Err(Failure::Idle)));
        drop(src_w);
        assert!(matches!(transfer(src_r.as_raw_fd(), dst_w.as_raw_fd(), 2000, 5000), Err(Failure::Short(0))));
    }
}
