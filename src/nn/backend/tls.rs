//! TLS on the nng backend: the `NN_TLS` options mapped onto nng's own TLS (`nng_tls_config_*`).
//!
//! nng's compatibility layer has no `NN_TLS` level: its `tls+tcp://` and `wss://` endpoints
//! take their TLS configuration as an object set on the listener or dialer before it starts.
//! So here the binding keeps the socket's `NN_TLS` options itself ([`TlsSettings`]), and a
//! bind or connect of a TLS address makes the endpoint itself (`nng_listener_create` or
//! `nng_dialer_create`, `NNG_OPT_TLS_CONFIG`, then start), as `nn_bind`/`nn_connect` would.
//!
//! What maps: the certificate and its key (read here, given as PEM text with the password),
//! the CA file, the server name (by default the host of the address, as on libnanomsg), and
//! verification (`NNG_TLS_AUTH_MODE_REQUIRED` or `_NONE`; a verifying client without a CA file
//! gets the system's CA bundle). What does not: nng reports nothing of a failed handshake, so
//! `NN_TLS_ERROR` says only why a configuration was refused at bind or connect, and there is
//! no handshake error count (nng keeps no statistics).

use std::ffi::{CStr, CString};
use std::os::raw::c_int;
use std::os::unix::ffi::OsStrExt;

use crate::ffi;
use crate::nn::error::{NnError, NnResult};
use crate::nn::sync::lock;

/// The system's CA bundle (Debian's `ca-certificates`), for a verifying client without a CA
/// file of its own: libnanomsg's OpenSSL uses the system's CAs there, nng's mbedTLS none.
const SYSTEM_CAS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The longest file path or name a string option takes (as our libnanomsg's
/// `NN_TLS_STR_MAX`: `PATH_MAX` less the NUL).
const STR_MAX: usize = 4095;

/// A socket's `NN_TLS` options, as set.
#[derive(Debug)]
struct Settings {
    cert_file: Vec<u8>,
    key_file: Vec<u8>,
    ca_file: Vec<u8>,
    server_name: Vec<u8>,
    password: Vec<u8>,
    /// -1: the default (a client verifies, a server does not), 0 never, 1 always.
    verify: c_int,
    /// Why the last TLS configuration was refused (`NN_TLS_ERROR`).
    error: Vec<u8>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            cert_file: Vec::new(),
            key_file: Vec::new(),
            ca_file: Vec::new(),
            server_name: Vec::new(),
            password: Vec::new(),
            verify: -1,
            error: Vec::new(),
        }
    }
}

/// The `NN_TLS` options of one socket, kept by the binding.
#[derive(Debug, Default)]
pub struct TlsSettings(std::sync::Mutex<Settings>);

/// True for an address of a TLS transport.
pub(super) fn is_tls_address(addr: &CStr) -> bool {
    let addr = addr.to_bytes();
    addr.starts_with(b"tls+tcp://") || addr.starts_with(b"wss://")
}

/// An nng error code as the errno nanomsg would give.
fn errno_of(rv: c_int) -> c_int {
    match rv {
        2 => libc::ENOMEM,
        9 => libc::ENOTSUP,
        10 => libc::EADDRINUSE,
        12 => libc::ENOENT,
        16 => libc::EACCES,
        _ => libc::EINVAL,
    }
}

/// nng's text for `rv`.
fn nng_text(rv: c_int) -> String {
    // SAFETY: nng_strerror returns a static NUL-terminated string for any code.
    unsafe { CStr::from_ptr(ffi::nng_strerror(rv)) }
        .to_string_lossy()
        .into_owned()
}

/// A C string of an option's bytes (`EINVAL` for a NUL inside).
fn c_string(bytes: &[u8]) -> NnResult<CString> {
    CString::new(bytes).map_err(|_| NnError::new(libc::EINVAL))
}

impl TlsSettings {
    /// `nn_setsockopt` at `NN_TLS`: a string option's bytes (empty: unset), refused as our
    /// libnanomsg refuses it: `EINVAL` past `STR_MAX` bytes or with a NUL inside.
    pub fn set_bytes(&self, option: c_int, value: &[u8]) -> NnResult<()> {
        if option != ffi::NN_TLS_VERIFY && (value.len() > STR_MAX || value.contains(&0)) {
            return Err(NnError::new(libc::EINVAL));
        }
        let mut s = lock(&self.0);
        let field = match option {
            ffi::NN_TLS_CERT_FILE => &mut s.cert_file,
            ffi::NN_TLS_KEY_FILE => &mut s.key_file,
            ffi::NN_TLS_CA_FILE => &mut s.ca_file,
            ffi::NN_TLS_SERVER_NAME => &mut s.server_name,
            ffi::NN_TLS_KEY_PASSWORD => &mut s.password,
            ffi::NN_TLS_VERIFY => {
                let int = <[u8; 4]>::try_from(value).map_err(|_| NnError::new(libc::EINVAL))?;
                drop(s);
                return self.set_int(option, c_int::from_ne_bytes(int));
            }
            _ => return Err(NnError::new(libc::ENOPROTOOPT)),
        };
        *field = value.to_vec();
        Ok(())
    }

    /// `nn_setsockopt` at `NN_TLS` of an int option (`NN_TLS_VERIFY`: -1, 0 or 1).
    pub fn set_int(&self, option: c_int, value: c_int) -> NnResult<()> {
        if option != ffi::NN_TLS_VERIFY {
            return self.set_bytes(option, &value.to_ne_bytes());
        }
        if !(-1..=1).contains(&value) {
            return Err(NnError::new(libc::EINVAL));
        }
        lock(&self.0).verify = value;
        Ok(())
    }

    /// `nn_getsockopt` at `NN_TLS`: the option's bytes (an int's in native order).
    pub fn get(&self, option: c_int) -> NnResult<Vec<u8>> {
        let s = lock(&self.0);
        Ok(match option {
            ffi::NN_TLS_CERT_FILE => s.cert_file.clone(),
            ffi::NN_TLS_KEY_FILE => s.key_file.clone(),
            ffi::NN_TLS_CA_FILE => s.ca_file.clone(),
            ffi::NN_TLS_SERVER_NAME => s.server_name.clone(),
            ffi::NN_TLS_VERIFY => s.verify.to_ne_bytes().to_vec(),
            ffi::NN_TLS_ERROR => s.error.clone(),
            // NN_TLS_KEY_PASSWORD is write-only, as on libnanomsg
            _ => return Err(NnError::new(libc::ENOPROTOOPT)),
        })
    }

    /// Binds (`bind`) or connects socket `socket` to the TLS address `addr` with these
    /// settings; the endpoint's id. A configuration nng refuses fails with the errno nanomsg
    /// would give (`EINVAL` mostly), and `NN_TLS_ERROR` says why.
    pub fn add_endpoint(&self, socket: c_int, addr: &CStr, bind: bool) -> NnResult<c_int> {
        let config = match self.config(addr, bind) {
            Ok(config) => config,
            Err((rv, why)) => {
                lock(&self.0).error = why.into_bytes();
                return Err(NnError::new(errno_of(rv)));
            }
        };
        let s = ffi::nng_endpoint { id: socket as u32 };
        let mut ep = ffi::nng_endpoint { id: 0 };
        // SAFETY: ep is live for the create call; addr is NUL-terminated; config.0 is a live
        // configuration, of which the endpoint takes its own reference; an endpoint that does
        // not start is closed here, once.
        let rv = unsafe {
            let cfg = config.0.cast();
            if bind {
                let mut rv = ffi::nng_listener_create(&mut ep, s, addr.as_ptr());
                if rv == 0 {
                    rv = ffi::nng_listener_set_ptr(ep, ffi::NNG_OPT_TLS_CONFIG.as_ptr(), cfg);
                    if rv == 0 {
                        rv = ffi::nng_listener_start(ep, 0);
                    }
                    if rv != 0 {
                        ffi::nng_listener_close(ep);
                    }
                }
                rv
            } else {
                let mut rv = ffi::nng_dialer_create(&mut ep, s, addr.as_ptr());
                if rv == 0 {
                    rv = ffi::nng_dialer_set_ptr(ep, ffi::NNG_OPT_TLS_CONFIG.as_ptr(), cfg);
                    if rv == 0 {
                        rv = ffi::nng_dialer_start(ep, ffi::NNG_FLAG_NONBLOCK);
                    }
                    if rv != 0 {
                        ffi::nng_dialer_close(ep);
                    }
                }
                rv
            }
        };
        if rv != 0 {
            // 7: NNG_ECLOSED, the socket is gone; 10: NNG_EADDRINUSE.
            let errno = match rv {
                7 => libc::EBADF,
                _ => errno_of(rv),
            };
            if errno == libc::EINVAL {
                lock(&self.0).error =
                    format!("nng refused the endpoint: {}", nng_text(rv)).into_bytes();
            }
            return Err(NnError::new(errno));
        }
        c_int::try_from(ep.id).map_err(|_| NnError::new(libc::EINVAL))
    }

    /// nng's TLS configuration of these settings, for a listener (`bind`) or a dialer to
    /// `addr`; else nng's error code and why.
    fn config(&self, addr: &CStr, bind: bool) -> Result<Config, (c_int, String)> {
        let s = lock(&self.0);
        let mode = if bind {
            ffi::NNG_TLS_MODE_SERVER
        } else {
            ffi::NNG_TLS_MODE_CLIENT
        };
        let mut raw = std::ptr::null_mut();
        // SAFETY: raw is live for the call.
        let rv = unsafe { ffi::nng_tls_config_alloc(&mut raw, mode) };
        if rv != 0 {
            return Err((rv, format!("nng_tls_config_alloc: {}", nng_text(rv))));
        }
        let config = Config(raw);
        let refused = |what: &str, rv: c_int| Err((rv, format!("{what}: {}", nng_text(rv))));
        let invalid = |what: String| (3, what);

        if !s.cert_file.is_empty() || !s.key_file.is_empty() {
            let read = |path: &[u8], what: &str| {
                let os = std::ffi::OsStr::from_bytes(path);
                let text = std::fs::read(os)
                    .map_err(|e| invalid(format!("{what} {}: {e}", os.to_string_lossy())))?;
                CString::new(text).map_err(|_| {
                    invalid(format!("{what} {}: not a PEM file", os.to_string_lossy()))
                })
            };
            let cert = read(&s.cert_file, "cert_file")?;
            let key = read(&s.key_file, "key_file")?;
            let pass = c_string(&s.password).map_err(|_| invalid("password".into()))?;
            let pass_ptr = if s.password.is_empty() {
                std::ptr::null()
            } else {
                pass.as_ptr()
            };
            // SAFETY: a live configuration; NUL-terminated strings, live for the call.
            let rv = unsafe {
                ffi::nng_tls_config_own_cert(config.0, cert.as_ptr(), key.as_ptr(), pass_ptr)
            };
            if rv != 0 {
                return refused(
                    "the certificate (cert_file) or its key (key_file, password)",
                    rv,
                );
            }
        }
        let verify = if s.verify < 0 { !bind } else { s.verify != 0 };
        let ca = if !s.ca_file.is_empty() {
            Some(s.ca_file.clone())
        } else if verify && !bind && std::path::Path::new(SYSTEM_CAS).exists() {
            Some(SYSTEM_CAS.as_bytes().to_vec())
        } else {
            None
        };
        if let Some(ca) = ca {
            let path = c_string(&ca).map_err(|_| invalid("ca_file".into()))?;
            // SAFETY: a live configuration; a NUL-terminated path, live for the call.
            let rv = unsafe { ffi::nng_tls_config_ca_file(config.0, path.as_ptr()) };
            if rv != 0 {
                return refused(
                    &format!("cannot use the CA file {}", String::from_utf8_lossy(&ca)),
                    rv,
                );
            }
        }
        let auth = if verify {
            ffi::NNG_TLS_AUTH_MODE_REQUIRED
        } else {
            ffi::NNG_TLS_AUTH_MODE_NONE
        };
        // SAFETY: a live configuration.
        let rv = unsafe { ffi::nng_tls_config_auth_mode(config.0, auth) };
        if rv != 0 {
            return refused("verify", rv);
        }
        if !bind {
            let name = if s.server_name.is_empty() {
                host_of(addr.to_bytes()).to_vec()
            } else {
                s.server_name.clone()
            };
            let name = c_string(&name).map_err(|_| invalid("server_name".into()))?;
            // SAFETY: a live configuration; a NUL-terminated name, live for the call.
            let rv = unsafe { ffi::nng_tls_config_server_name(config.0, name.as_ptr()) };
            if rv != 0 {
                return refused("server_name", rv);
            }
        }
        Ok(config)
    }
}

/// The host of a `scheme://[interface;]host:port/path` address, an IPv6 literal without its brackets.
fn host_of(addr: &[u8]) -> &[u8] {
    let rest = addr
        .windows(3)
        .position(|w| w == b"://")
        .map_or(addr, |i| &addr[i + 3..]);
    let rest = rest.split(|&b| b == b'/').next().unwrap_or(rest);
    // "interface;host:port": the host is after the interface
    let rest = rest.split(|&b| b == b';').next_back().unwrap_or(rest);
    if let Some(inner) = rest.strip_prefix(b"[") {
        return inner.split(|&b| b == b']').next().unwrap_or(inner);
    }
    match rest.iter().rposition(|&b| b == b':') {
        Some(i) => &rest[..i],
        None => rest,
    }
}

/// An `nng_tls_config` reference, dropped with it.
struct Config(*mut ffi::nng_tls_config);

impl Drop for Config {
    fn drop(&mut self) {
        // SAFETY: our own reference, dropped once; an endpoint given it holds its own.
        unsafe { ffi::nng_tls_config_free(self.0) };
    }
}

#[cfg(test)]
mod tests {
    use super::host_of;

    #[test]
    fn host_of_an_address() {
        assert_eq!(host_of(b"tls+tcp://localhost:5555"), b"localhost");
        assert_eq!(host_of(b"wss://127.0.0.1:80/path:x"), b"127.0.0.1");
        assert_eq!(host_of(b"tls+tcp://[::1]:5555"), b"::1");
        assert_eq!(host_of(b"tls+tcp://eth0;host:1"), b"host");
    }
}
