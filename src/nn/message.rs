//! `NnMsg`: a buffer that libnanomsg allocated (`nn_allocmsg`, or `NN_MSG` on receive), owned
//! here and freed with `nn_freemsg` exactly once.

use std::os::raw::c_void;
use std::ptr::NonNull;

use crate::ffi;
use crate::nn::backend;
use crate::nn::error::{NnError, NnResult};

/// An owned libnanomsg message buffer.
pub struct NnMsg {
    ptr: NonNull<c_void>,
    len: usize,
    /// True for a buffer that nng handed out on receive: it keeps the message's SP header
    /// inside, invisible here (see [`backend::RECEIVED_BUFFER_CARRIES_HEADER`]).
    carries_header: bool,
}

// SAFETY: the buffer is plain heap memory owned by this value alone; libnanomsg's allocator
// is thread-safe, so it may be freed from any thread.
unsafe impl Send for NnMsg {}
// SAFETY: shared access only reads the bytes.
unsafe impl Sync for NnMsg {}

impl NnMsg {
    /// `nn_allocmsg(len, 0)`: a fresh buffer of `len` bytes (contents unspecified).
    pub fn alloc(len: usize) -> NnResult<Self> {
        // SAFETY: nn_allocmsg has no preconditions; it returns NULL (errno set) on failure.
        let ptr = unsafe { ffi::nn_allocmsg(backend::alloc_size(len), 0) };
        NonNull::new(ptr)
            .map(|ptr| Self {
                ptr,
                len,
                carries_header: false,
            })
            .ok_or_else(NnError::last)
    }

    /// A buffer holding a copy of `data`.
    pub fn from_slice(data: &[u8]) -> NnResult<Self> {
        let mut msg = Self::alloc(data.len())?;
        super::copy::copy_bytes(msg.as_mut_slice(), data);
        Ok(msg)
    }

    /// Takes ownership of a buffer that libnanomsg handed out (`NN_MSG` receive).
    ///
    /// # Safety
    /// `ptr` must come from libnanomsg's allocator, hold `len` bytes, and have no other owner.
    #[inline]
    pub unsafe fn from_library(ptr: NonNull<c_void>, len: usize) -> Self {
        Self {
            ptr,
            len,
            carries_header: backend::RECEIVED_BUFFER_CARRIES_HEADER,
        }
    }

    /// True when the buffer cannot be handed back to the C library as it is, because it
    /// still holds a received message's hidden SP header (nng only).
    pub fn carries_header(&self) -> bool {
        self.carries_header
    }

    /// True where a send must copy this buffer rather than hand it over (`NN_MSG`): an
    /// empty one (nng sizes an `NN_MSG` send by its buffer, which is never empty there), one
    /// that [`carries_header`](Self::carries_header), and where
    /// [`backend::HEADER_SEND_COPIES_BODY`], one sent `with_header`.
    #[inline]
    pub fn sent_by_copy(&self, with_header: bool) -> bool {
        self.is_empty() || self.carries_header || (backend::HEADER_SEND_COPIES_BODY && with_header)
    }

    /// Gives up ownership to the library, which took the buffer (a zero-copy send that
    /// succeeded).
    #[inline]
    pub fn hand_over(self) -> *mut c_void {
        let ptr = self.ptr.as_ptr();
        std::mem::forget(self);
        ptr
    }

    /// `nn_reallocmsg`: grows or shrinks the buffer, keeping its first bytes. Where that
    /// call loses the contents (see [`backend::REALLOC_KEEPS_CONTENTS`]), moves them into a
    /// fresh buffer instead.
    pub fn resize(&mut self, len: usize) -> NnResult<()> {
        if !backend::REALLOC_KEEPS_CONTENTS {
            let mut fresh = Self::alloc(len)?;
            let keep = len.min(self.len);
            super::copy::copy_bytes(&mut fresh.as_mut_slice()[..keep], &self.as_slice()[..keep]);
            *self = fresh;
            return Ok(());
        }
        // SAFETY: self.ptr is a live libnanomsg buffer that this value owns.
        let ptr = unsafe { ffi::nn_reallocmsg(self.ptr.as_ptr(), len) };
        self.ptr = NonNull::new(ptr).ok_or_else(NnError::last)?;
        self.len = len;
        Ok(())
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for an empty message.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Start of the buffer.
    pub fn as_ptr(&self) -> *mut c_void {
        self.ptr.as_ptr()
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: the buffer holds self.len initialised bytes and lives as long as self.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().cast::<u8>(), self.len) }
    }

    /// The bytes, writable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in as_slice, and &mut self makes this the only access.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().cast::<u8>(), self.len) }
    }
}

impl Drop for NnMsg {
    fn drop(&mut self) {
        // SAFETY: this value owns the buffer, and hand_over forgets self, so it is freed once.
        unsafe { ffi::nn_freemsg(self.ptr.as_ptr()) };
    }
}

impl std::fmt::Debug for NnMsg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NnMsg({} bytes)", self.len)
    }
}
