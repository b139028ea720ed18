//! A device: forwards messages between two raw sockets (or back into one), as `nn_device`
//! does, but built on the guarded sockets of `socket` so that closing either socket, or
//! `nn_term`, ends it at once and a signal can interrupt it without losing a message.
//!
//! While messages keep coming it moves them without waiting, a message from each route in
//! turn, and so without a system call of its own (the library's fds are lazy: see
//! `Waiting`); it waits, as a registered poller, only when no route has one. A signal that
//! comes while no system call runs interrupts none (and with waits that end at once, one
//! may never be running when it comes): on the main thread (where Python runs signal
//! handlers), a device ends with `EINTR` every [`LOOK_AT_SIGNALS`] while it is busy, so that
//! the caller looks at signals (its Ctrl-C) however busy the device is, and calls it again.

use std::os::raw::c_int;
use std::time::{Duration, Instant};

use crate::ffi;
use crate::nn::error::{NnError, NnResult};
use crate::nn::message::NnMsg;
use crate::nn::socket::{wait_any, Direction, Guard, Waiting};

/// How long a device on the main thread runs before it returns `EINTR`, to have the caller
/// look at signals (then it is called again and goes on): read after every wait and every
/// [`CLOCK_EVERY`] messages moved.
pub const LOOK_AT_SIGNALS: Duration = Duration::from_millis(50);

/// The clock is read once every this many messages moved without a wait.
const CLOCK_EVERY: u32 = 256;

/// True on the process's main thread (whose thread id is the process id).
fn on_main_thread() -> bool {
    // SAFETY: neither call has arguments or preconditions.
    unsafe { libc::gettid() == libc::getpid() }
}

/// One direction of traffic: from `sockets[from]` to `sockets[to]`.
#[derive(Clone, Copy, Debug)]
struct Route {
    from: usize,
    to: usize,
    rcvfd: c_int,
}

/// A message taken from one socket and not yet delivered to the other.
struct Pending {
    to: usize,
    body: NnMsg,
    header: Option<Vec<u8>>,
}

/// A running device. [`Device::run`] returns only with an error; `EINTR` means "check
/// signals and call `run` again": the message in flight is kept.
pub struct Device<'g, 's> {
    sockets: Vec<&'g Guard<'s>>,
    routes: Vec<Route>,
    pending: Option<Pending>,
}

fn is_raw(g: &Guard<'_>) -> NnResult<bool> {
    Ok(g.getsockopt_int(ffi::NN_SOL_SOCKET, ffi::NN_DOMAIN)? == ffi::AF_SP_RAW)
}

impl<'g, 's> Device<'g, 's> {
    /// Checks the sockets as `nn_device` does (`EINVAL` unless both are raw sockets of one
    /// protocol family that can pass messages in at least one direction).
    pub fn new(a: &'g Guard<'s>, b: Option<&'g Guard<'s>>) -> NnResult<Self> {
        let einval = NnError::new(libc::EINVAL);
        if !is_raw(a)? {
            return Err(einval);
        }
        let Some(b) = b else {
            let rcvfd = a.poll_fd(Direction::Recv)?.ok_or(einval)?;
            a.poll_fd(Direction::Send)?.ok_or(einval)?;
            let routes = vec![Route {
                from: 0,
                to: 0,
                rcvfd,
            }];
            return Ok(Self {
                sockets: vec![a],
                routes,
                pending: None,
            });
        };
        if !is_raw(b)? {
            return Err(einval);
        }
        let family = |g: &Guard<'_>| g.getsockopt_int(ffi::NN_SOL_SOCKET, ffi::NN_PROTOCOL);
        if family(a)? / 16 != family(b)? / 16 {
            return Err(einval);
        }
        let (a_rcv, a_snd) = (a.poll_fd(Direction::Recv)?, a.poll_fd(Direction::Send)?);
        let (b_rcv, b_snd) = (b.poll_fd(Direction::Recv)?, b.poll_fd(Direction::Send)?);
        // A socket that receives must have a peer that sends, and the other way round.
        if a_rcv.is_some() != b_snd.is_some() || b_rcv.is_some() != a_snd.is_some() {
            return Err(einval);
        }
        let mut routes = Vec::new();
        if let (Some(rcvfd), Some(_)) = (a_rcv, b_snd) {
            routes.push(Route {
                from: 0,
                to: 1,
                rcvfd,
            });
        }
        if let (Some(rcvfd), Some(_)) = (b_rcv, a_snd) {
            routes.push(Route {
                from: 1,
                to: 0,
                rcvfd,
            });
        }
        if routes.is_empty() {
            return Err(einval);
        }
        Ok(Self {
            sockets: vec![a, b],
            routes,
            pending: None,
        })
    }

    fn wake_fds(&self) -> Vec<c_int> {
        self.sockets.iter().map(|g| g.wake_fd()).collect()
    }

    /// Forwards messages until an error: `EBADF` (a socket closed), `ETERM`, or `EINTR` (a
    /// signal, or, on the main thread, [`LOOK_AT_SIGNALS`] since the call began).
    pub fn run(&mut self) -> NnResult<()> {
        let main_thread = on_main_thread();
        let began = Instant::now();
        let time_to_look = || main_thread && began.elapsed() >= LOOK_AT_SIGNALS;
        let mut burst = 0u32;
        loop {
            if let Some(p) = self.pending.take() {
                self.deliver(p)?;
            }
            if self.sockets.iter().any(|g| g.is_closed()) {
                return Err(NnError::new(libc::EBADF));
            }
            if burst >= CLOCK_EVERY {
                burst = 0;
                if time_to_look() {
                    return Err(NnError::new(libc::EINTR));
                }
            }
            // A message from each route in turn, without waiting.
            let mut moved = false;
            for i in 0..self.routes.len() {
                let route = self.routes[i];
                match self.sockets[route.from].recv_with_header(ffi::NN_DONTWAIT) {
                    Ok((body, header)) => {
                        moved = true;
                        burst += 1;
                        self.deliver(Pending {
                            to: route.to,
                            body,
                            header,
                        })?;
                    }
                    Err(e) if e.errno() == libc::EAGAIN => {}
                    Err(e) => return Err(e),
                }
            }
            if moved {
                continue;
            }
            // Nothing anywhere: wait, counted in on every route's fd, until one is ready.
            burst = 0;
            let _waiting = self
                .routes
                .iter()
                .map(|r| self.sockets[r.from].waiting(Direction::Recv.poll_event()))
                .collect::<NnResult<Vec<Waiting<'_>>>>()?;
            let mut fds: Vec<(c_int, libc::c_short)> =
                self.routes.iter().map(|r| (r.rcvfd, 0)).collect();
            wait_any(&mut fds, &self.wake_fds(), None)?;
            if time_to_look() {
                return Err(NnError::new(libc::EINTR));
            }
        }
    }

    /// Sends `p` on, waiting while the destination cannot take it.
    fn deliver(&mut self, p: Pending) -> NnResult<()> {
        let Pending {
            to,
            mut body,
            header,
        } = p;
        let dst = self.sockets[to];
        let sndfd = dst
            .poll_fd(Direction::Send)?
            .ok_or(NnError::new(libc::EINVAL))?;
        loop {
            match dst.send_with_header(body, header.as_deref(), ffi::NN_DONTWAIT) {
                Ok(_) => return Ok(()),
                Err((e, back)) if e.errno() == libc::EAGAIN => body = back,
                // A message the destination refuses (e.g. a reply whose route is gone) is
                // dropped, as nn_device drops it; the device goes on.
                Err((e, _)) if e.errno() != libc::EBADF && e.errno() != ffi::ETERM => return Ok(()),
                Err((e, _)) => return Err(e),
            }
            let _waiting = dst.waiting(Direction::Send.poll_event())?;
            let mut fds = [(sndfd, 0)];
            if let Err(e) = wait_any(&mut fds, &self.wake_fds(), None) {
                if e.errno() == libc::EINTR {
                    self.pending = Some(Pending { to, body, header });
                }
                return Err(e);
            }
        }
    }
}
