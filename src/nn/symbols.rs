//! `nn_symbol_info`: the names and values the linked library knows, and its ABI version.

#[cfg(not(feature = "nng"))]
use std::ffi::CStr;
use std::os::raw::c_int;

#[cfg(not(feature = "nng"))]
use crate::ffi;
#[cfg(feature = "nng")]
use crate::nn::error::NnError;
use crate::nn::error::NnResult;

/// One entry of `nn_symbol_info`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// The C name, e.g. `NN_LINGER`.
    pub name: String,
    /// Its value.
    pub value: c_int,
    /// Its namespace (`NN_NS_*`).
    pub ns: c_int,
    /// The option type (`NN_TYPE_*`), for options.
    pub type_: c_int,
    /// The unit (`NN_UNIT_*`), for options and statistics.
    pub unit: c_int,
}

/// Every symbol the linked libnanomsg knows, in its order (`ENOTSUP` on nng, which has no
/// `nn_symbol_info`).
#[cfg(feature = "nng")]
pub fn symbols() -> NnResult<Vec<Symbol>> {
    Err(NnError::unsupported(
        "nn_symbol_info is not supported by the nng backend",
    ))
}

/// Every symbol the linked libnanomsg knows, in its order.
#[cfg(not(feature = "nng"))]
pub fn symbols() -> NnResult<Vec<Symbol>> {
    let mut out = Vec::new();
    for i in 0.. {
        let mut props = ffi::nn_symbol_properties {
            value: 0,
            name: std::ptr::null(),
            ns: 0,
            type_: 0,
            unit: 0,
        };
        let size = std::mem::size_of::<ffi::nn_symbol_properties>() as c_int;
        // SAFETY: props is a live, writable struct of the size passed.
        let rc = unsafe { ffi::nn_symbol_info(i, &mut props, size) };
        if rc == 0 || props.name.is_null() {
            break;
        }
        // SAFETY: libnanomsg's symbol names are static NUL-terminated strings.
        let name = unsafe { CStr::from_ptr(props.name) }
            .to_string_lossy()
            .into_owned();
        out.push(Symbol {
            name,
            value: props.value,
            ns: props.ns,
            type_: props.type_,
            unit: props.unit,
        });
    }
    Ok(out)
}

/// The linked library's ABI version `(current, revision, age)`, as its symbols report it.
pub fn version() -> NnResult<(c_int, c_int, c_int)> {
    let syms = symbols()?;
    let get = |name: &str| syms.iter().find(|s| s.name == name).map_or(-1, |s| s.value);
    Ok((
        get("NN_VERSION_CURRENT"),
        get("NN_VERSION_REVISION"),
        get("NN_VERSION_AGE"),
    ))
}
