//! nanomsg-rs: the Python binding for libnanomsg.
//!
//! Three layers, each ignorant of the one above:
//! - `ffi.rs`: raw C declarations (`extern "C"`, constants, `#[repr(C)]` structs), nothing else;
//! - `nn/`: the safe core, no PyO3 (its API is re-exported by `nn/mod.rs`):
//!   - `socket/`: the owning `Socket` and its `Guard`: life (`mod.rs`), `endpoints.rs`,
//!     `io.rs` (send, receive), `batch.rs` (many messages per call), `options.rs`
//!     (get/setsockopt and their caches), `wait.rs` (`Direction`, `wait_any`, the retry loop
//!     of blocking calls);
//!   - `poll.rs`: `nn_poll` over several guarded sockets;
//!   - `device.rs`: `nn_device` over guarded sockets;
//!   - `message.rs`: `NnMsg`, a buffer of the C library's, owned;
//!   - `cmsg.rs`: the SP header as control data, encoded and decoded;
//!   - `backend/`: every difference between the backends (nng's in `reply.rs`, `survey.rs`);
//!   - `library.rs`: which C library is linked, and `nn_term`;
//!   - `symbols.rs`: `nn_symbol_info`, and the ABI version;
//!   - `error.rs`: `NnError`, errno and its text;
//!   - `process.rs`: the process's fork, start and term state;
//!   - `options.rs`: the table of socket options, a typed row each, which every layer reads;
//!   - `constants.rs`: the table of constants the Python module exports;
//!   - `sync.rs`: a lock that survives poisoning;
//! - `py/`: the thin PyO3 layer, gathered into the `_native` module (`py/mod.rs`): `socket.rs`,
//!   `message.rs`, `options.rs` (the option table as `_native.OPTIONS`), `functions.rs`,
//!   `blocking.rs` (the GIL and signals around blocking calls), `data.rs` (Python objects as
//!   bytes), `errors.rs` (errno to Python exceptions), `misuse.rs` (the misuse warnings).

mod ffi;
mod nn;
mod py;
