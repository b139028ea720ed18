//! Sending and receiving: bytes, gathered parts, zero-copy messages, and messages with their
//! SP header (raw sockets). Every call takes the flags to pass to the C library as they are
//! (`NN_DONTWAIT` or not); waiting is the caller's (see `wait.rs`).

use std::os::raw::{c_int, c_void};
use std::ptr::NonNull;

use super::Guard;
use crate::ffi;
use crate::nn::backend;
use crate::nn::cmsg;
use crate::nn::error::{check_len, NnError, NnResult};
use crate::nn::message::NnMsg;

/// With `NN_MSG`, the buffer libnanomsg is given is the address of a message pointer: the
/// message to take (sending) or where to store a new one (receiving).
fn msg_slot(slot: &mut *mut c_void) -> *mut c_void {
    (slot as *mut *mut c_void).cast()
}

impl Guard<'_> {
    /// `nn_send` of a copy of `data`.
    pub fn send(&self, data: &[u8], flags: c_int) -> NnResult<usize> {
        // SAFETY: data is valid for data.len() bytes during the call; libnanomsg copies it.
        self.finish_send(unsafe {
            ffi::nn_send(self.id(), data.as_ptr().cast(), data.len(), flags)
        })
    }

    /// `nn_sendmsg` of several buffers gathered into one message (copied by libnanomsg).
    pub fn send_parts(&self, parts: &[&[u8]], flags: c_int) -> NnResult<usize> {
        let mut iov: Vec<ffi::nn_iovec> = parts
            .iter()
            .map(|p| ffi::nn_iovec {
                iov_base: p.as_ptr() as *mut c_void,
                iov_len: p.len(),
            })
            .collect();
        let hdr = ffi::nn_msghdr {
            msg_iov: iov.as_mut_ptr(),
            msg_iovlen: c_int::try_from(iov.len()).map_err(|_| NnError::new(libc::EINVAL))?,
            msg_control: std::ptr::null_mut(),
            msg_controllen: 0,
        };
        // SAFETY: every iovec points at a live slice of its length; libnanomsg only reads
        // them (copying into a new message) during the call.
        self.finish_send(unsafe { ffi::nn_sendmsg(self.id(), &hdr, flags) })
    }

    /// `nn_send` with `NN_MSG`: hands `msg` over to libnanomsg; on failure it comes back.
    pub fn send_msg(&self, msg: NnMsg, flags: c_int) -> Result<usize, (NnError, NnMsg)> {
        if msg.sent_by_copy(false) {
            // Empty, or holding a received header (nng): see `NnMsg::sent_by_copy`.
            return self.send(msg.as_slice(), flags).map_err(|e| (e, msg));
        }
        let mut ptr = msg.as_ptr();
        // SAFETY: &mut ptr points at a libnanomsg buffer; with NN_MSG the library takes it
        // only when the call succeeds.
        let rc = unsafe { ffi::nn_send(self.id(), msg_slot(&mut ptr), ffi::NN_MSG, flags) };
        match self.finish_send(rc) {
            Ok(n) => {
                let _ = msg.hand_over();
                Ok(n)
            }
            Err(e) => Err((e, msg)),
        }
    }

    /// `nn_recv` with `NN_MSG`: the whole message, in libnanomsg's own buffer.
    pub fn recv_msg(&self, flags: c_int) -> NnResult<NnMsg> {
        let mut ptr: *mut c_void = std::ptr::null_mut();
        // SAFETY: with NN_MSG, libnanomsg stores a fresh buffer's address into ptr.
        let rc = unsafe { ffi::nn_recv(self.id(), msg_slot(&mut ptr), ffi::NN_MSG, flags) };
        let len = self.finish_recv(rc)?;
        let ptr = NonNull::new(ptr).ok_or(NnError::new(libc::EFAULT))?;
        // SAFETY: the buffer came from libnanomsg, holds len bytes, and is ours alone.
        Ok(unsafe { NnMsg::from_library(ptr, len) })
    }

    /// `nn_recv` into `buf`; returns the message's full length (bytes past `buf` are dropped).
    pub fn recv_into(&self, buf: &mut [u8], flags: c_int) -> NnResult<usize> {
        // SAFETY: buf is writable for buf.len() bytes during the call.
        self.finish_recv(unsafe {
            ffi::nn_recv(self.id(), buf.as_mut_ptr().cast(), buf.len(), flags)
        })
    }

    /// `nn_recvmsg` with `NN_MSG` body and control: the message and its SP header, if any.
    pub fn recv_with_header(&self, flags: c_int) -> NnResult<(NnMsg, Option<Vec<u8>>)> {
        let mut body: *mut c_void = std::ptr::null_mut();
        let mut control: *mut c_void = std::ptr::null_mut();
        let mut iov = ffi::nn_iovec {
            iov_base: msg_slot(&mut body),
            iov_len: ffi::NN_MSG,
        };
        let mut hdr = ffi::nn_msghdr {
            msg_iov: &mut iov,
            msg_iovlen: 1,
            msg_control: msg_slot(&mut control),
            msg_controllen: ffi::NN_MSG,
        };
        // SAFETY: hdr, iov, body and control live across the call; with NN_MSG libnanomsg
        // stores freshly allocated buffers into body and control.
        let len = self.finish_recv(unsafe { ffi::nn_recvmsg(self.id(), &mut hdr, flags) })?;
        let body = NonNull::new(body).ok_or(NnError::new(libc::EFAULT))?;
        // SAFETY: body came from libnanomsg with len bytes and is ours alone.
        let body = unsafe { NnMsg::from_library(body, len) };
        let header = NonNull::new(control).map(|c| {
            // SAFETY: nn_recvmsg set msg_controllen to the control buffer's size.
            let control = unsafe { NnMsg::from_library(c, hdr.msg_controllen) };
            cmsg::decode(control.as_slice())
        });
        Ok((body, header.flatten()))
    }

    /// `nn_sendmsg` of `body` (zero-copy) with `header` as the SP header control data.
    pub fn send_with_header(
        &self,
        body: NnMsg,
        header: Option<&[u8]>,
        flags: c_int,
    ) -> Result<usize, (NnError, NnMsg)> {
        let mut control = header.map(cmsg::encode).unwrap_or_default();
        let mut ptr = body.as_ptr();
        // Empty, holding a received header, or (nng) sent with a header: see
        // `NnMsg::sent_by_copy`.
        let copy = body.sent_by_copy(header.is_some());
        let mut iov = if copy {
            ffi::nn_iovec {
                iov_base: ptr,
                iov_len: body.len(),
            }
        } else {
            ffi::nn_iovec {
                iov_base: msg_slot(&mut ptr),
                iov_len: ffi::NN_MSG,
            }
        };
        let hdr = ffi::nn_msghdr {
            msg_iov: &mut iov,
            msg_iovlen: 1,
            msg_control: if control.is_empty() {
                std::ptr::null_mut()
            } else {
                control.as_mut_ptr().cast()
            },
            msg_controllen: control.len(),
        };
        // SAFETY: hdr, iov, ptr, body and control live across the call; libnanomsg takes the
        // body buffer (unless copied) only when the call succeeds and copies the control data.
        match self.finish_send(unsafe { ffi::nn_sendmsg(self.id(), &hdr, flags) }) {
            Ok(n) => {
                if !copy {
                    // Taken by the library.
                    let _ = body.hand_over();
                }
                Ok(n)
            }
            Err(e) => Err((e, body)),
        }
    }

    /// The length a send returned (`rc`, or its error), after the bookkeeping a send ends
    /// with on nng: a REP's or RESPONDENT's reply is no longer due, a SURVEYOR's survey
    /// clock starts.
    #[inline]
    fn finish_send(&self, rc: c_int) -> NnResult<usize> {
        let result = check_len(rc);
        // Only nng's sockets keep this bookkeeping: on libnanomsg it compiles away.
        if !backend::KEEPS_CALL_BOOKKEEPING {
            return result;
        }
        if let Some(replies) = &self.socket.replies {
            replies.after_send(result);
        }
        let n = result?;
        if let Some(clock) = &self.socket.survey {
            let deadline = self
                .getsockopt_int(ffi::NN_SURVEYOR, ffi::NN_SURVEYOR_DEADLINE)
                .unwrap_or(0);
            clock.started(deadline);
        }
        Ok(n)
    }

    /// The length a receive returned (`rc`), or its error as libnanomsg would report it
    /// (see `SurveyClock::recv_error`), after the bookkeeping a receive ends with on nng: a
    /// REP's or RESPONDENT's reply is due.
    #[inline]
    fn finish_recv(&self, rc: c_int) -> NnResult<usize> {
        // Only nng's sockets keep this bookkeeping: on libnanomsg it compiles away.
        if !backend::KEEPS_CALL_BOOKKEEPING {
            return check_len(rc);
        }
        let n = check_len(rc).map_err(|e| match &self.socket.survey {
            Some(clock) => clock.recv_error(e),
            None => e,
        })?;
        if let Some(replies) = &self.socket.replies {
            replies.after_recv();
        }
        Ok(n)
    }
}
