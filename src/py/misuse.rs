//! Misuse warnings: calls that are almost certainly mistakes and that the library passes over
//! in silence, each kind given once per socket as a `nanomsg_rs.UsageWarning` (the class is
//! `_errors.py`'s; the kinds, their texts and the once-per-socket state are here). What a
//! socket has been used for (bound, subscribed) is a fact of the safe core; which warnings a
//! socket gave is this layer's own, kept in [`Warned`].

use std::ffi::CString;
use std::sync::atomic::{AtomicU64, Ordering};

use pyo3::prelude::*;

use crate::ffi;
use crate::nn::{self, Caveat, OptionSpec, Usage, OPTIONS};
use crate::py::errors::{usage_warning, OnSocket};

/// A misuse, by kind.
#[derive(Clone, Copy)]
enum Misuse {
    /// A send that cannot fail and cannot reach anyone: on a PUB, BUS, REQ or SURVEYOR socket
    /// (not raw: those wait) that was never bound or connected.
    NoEndpoint,
    /// A receive on a SUB socket with no subscription.
    NoSubscription,
    /// Setting an option the library ignores ([`Caveat::Ignored`]).
    IgnoredOption(&'static OptionSpec),
    /// Setting an option that applies to later endpoints only ([`Caveat::LaterEndpoints`])
    /// on a socket that has endpoints.
    LateOption(&'static OptionSpec),
}

impl Misuse {
    /// The kind's bit in [`Warned`]: one per kind, and one per option for the option kinds.
    fn bit(self) -> u64 {
        let index = match self {
            Misuse::NoEndpoint => 0,
            Misuse::NoSubscription => 1,
            Misuse::IgnoredOption(spec) | Misuse::LateOption(spec) => {
                2 + OPTIONS.iter().position(|o| o == spec).unwrap_or(0)
            }
        };
        1 << index
    }

    /// The warning's text, for `call` on the socket described by `on` (`"REQ socket 3"`).
    fn text(self, call: &str, on: &str, protocol: i32) -> String {
        match self {
            Misuse::NoEndpoint => {
                let goal = if matches!(protocol, ffi::NN_REQ | ffi::NN_SURVEYOR) {
                    "the request waits"
                } else {
                    "the message is dropped"
                };
                format!(
                    "{call}() on {on}, which is neither bound nor connected: {goal}, and \
                     nothing says so; call bind() or connect() first"
                )
            }
            Misuse::NoSubscription => format!(
                "{call}() on {on}, which has no subscription: a SUB socket receives nothing \
                 until it subscribes; call subscribe(b'') to receive every message"
            ),
            Misuse::IgnoredOption(spec) => {
                let then = match spec.caveat {
                    Some(Caveat::Ignored(then)) => then,
                    _ => "nothing changes",
                };
                format!(
                    "setting {} on {on} has no effect: nanomsg ignores it, and {then}",
                    spec.name
                )
            }
            Misuse::LateOption(spec) => format!(
                "setting {} on {on} after bind() or connect(): it applies only to endpoints \
                 added after it; set it first",
                spec.name
            ),
        }
    }
}

// Every kind has a bit below the one that settles the socket.
const _: () = assert!(2 + OPTIONS.len() < 63);

/// Which misuse warnings a socket gave, and whether none can come any more from a send or a
/// receive (then their check costs one load).
#[derive(Default)]
pub struct Warned(AtomicU64);

/// A socket that warns about its misuse: the Python object, the core's socket behind it,
/// and the warnings it gave.
pub trait Watched<'py>: OnSocket<'py> {
    fn warned(&self) -> &Warned;
}

/// No send or receive can be a misuse any more.
const SETTLED: u64 = 1 << 63;

impl Warned {
    /// True the first time it is asked for `misuse`.
    fn first(&self, misuse: Misuse) -> bool {
        let bit = misuse.bit();
        self.0.fetch_or(bit, Ordering::Relaxed) & bit == 0
    }
}

/// Warns about `call` (a send, or a receive) on `socket` if it is a misuse the library passes
/// over in silence: the first time for each socket and kind. An error only where the warning
/// filters make the warning one.
#[inline(always)]
pub fn check_transfer<'py>(socket: &impl Watched<'py>, call: &str, send: bool) -> PyResult<()> {
    if socket.warned().0.load(Ordering::Relaxed) & SETTLED != 0 {
        return Ok(());
    }
    check_transfer_slow(socket, call, send)
}

#[inline(never)]
fn check_transfer_slow<'py>(socket: &impl Watched<'py>, call: &str, send: bool) -> PyResult<()> {
    let inner = socket.socket();
    // Sending without a peer blocks on the other protocols, which shows; on these the
    // message goes nowhere, or a request waits, and nothing says so.
    let silent = !inner.is_raw()
        && matches!(
            inner.protocol(),
            ffi::NN_PUB | ffi::NN_BUS | ffi::NN_REQ | ffi::NN_SURVEYOR
        );
    let sub = !inner.is_raw() && inner.protocol() == ffi::NN_SUB;
    let endpoint_done = !silent || inner.used(Usage::Endpoint);
    let subscription_done = !sub || inner.used(Usage::Subscribed);
    let misuse = if send && !endpoint_done {
        Misuse::NoEndpoint
    } else if !send && !subscription_done {
        Misuse::NoSubscription
    } else {
        if endpoint_done && subscription_done {
            socket.warned().0.fetch_or(SETTLED, Ordering::Relaxed);
        }
        return Ok(());
    };
    // Called by the user's code: the warning points there.
    warn(socket, misuse, call, 1)
}

/// Warns about setting the option of `spec` on `socket` where its row has a [`Caveat`]: an
/// option the library ignores, or one that applies to endpoints added later only, set while
/// the socket has endpoints. Once per socket and option. For the option properties: the
/// warning points at the line that set the property.
pub fn check_set<'py>(socket: &impl Watched<'py>, spec: &'static OptionSpec) -> PyResult<()> {
    let misuse = match spec.caveat {
        None => return Ok(()),
        Some(Caveat::Ignored(_)) => Misuse::IgnoredOption(spec),
        Some(Caveat::LaterEndpoints) => {
            if !socket.socket().acquire().is_ok_and(|g| g.has_endpoints()) {
                return Ok(());
            }
            Misuse::LateOption(spec)
        }
    };
    // The property's __set__, Socket.__setattr__, the user's line.
    warn(socket, misuse, "setsockopt", 3)
}

fn warn<'py>(
    socket: &impl Watched<'py>,
    misuse: Misuse,
    call: &str,
    stacklevel: i32,
) -> PyResult<()> {
    let inner = socket.socket();
    // A closed socket has no number to name: nothing to warn about.
    let Ok(guard) = inner.acquire() else {
        return Ok(());
    };
    if !socket.warned().first(misuse) {
        return Ok(());
    }
    let protocol = inner.protocol();
    let name = nn::protocol_name(protocol).unwrap_or("?");
    let on = format!("{name} socket {}", guard.id());
    let text = CString::new(misuse.text(call, &on, protocol)).unwrap_or_default();
    let py = socket.object().py();
    PyErr::warn(py, &usage_warning(py)?, &text, stacklevel)
}
