//! `_native.OptionSpec` and `_native.OPTIONS`: the rows of the option table (`nn`'s
//! `options.rs`) as Python reads them. `nanomsg_rs.Socket`'s option properties are made from
//! them, and so are the texts of option errors and the docs' option tables.

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::nn::{Caveat, Face, Kind, Nng, Only, OptionSpec, OPTIONS};

/// One socket option, as the binding knows it (read-only): where it is, its type and unit,
/// the values it takes, which sockets have it, what the nng backend does with it.
#[pyclass(frozen, module = "nanomsg_rs._native", name = "OptionSpec")]
pub struct PyOptionSpec {
    spec: &'static OptionSpec,
}

impl PyOptionSpec {
    /// The row.
    pub fn spec(&self) -> &'static OptionSpec {
        self.spec
    }
}

#[pymethods]
impl PyOptionSpec {
    /// The name in Python: the property of ``Socket``, or the method that sets it.
    #[getter]
    fn name(&self) -> &'static str {
        self.spec.name
    }

    /// The level (``SOL_SOCKET``, a protocol or a transport).
    #[getter]
    fn level(&self) -> i32 {
        self.spec.place.level
    }

    /// The option's number at its level.
    #[getter]
    fn option(&self) -> i32 {
        self.spec.place.option
    }

    /// The C name of the option's number (``"NN_RCVTIMEO"``).
    #[getter]
    fn c_name(&self) -> &'static str {
        self.spec.place.c_name
    }

    /// ``"int"``, ``"bool"``, ``"str"`` or ``"bytes"``.
    #[getter(r#type)]
    fn kind(&self) -> &'static str {
        match self.spec.kind {
            Kind::Int => "int",
            Kind::Bool => "bool",
            Kind::Str => "str",
            Kind::Bytes => "bytes",
        }
    }

    /// The unit, a ``UNIT_*`` constant (as ``nn_symbol_info`` gives it).
    #[getter]
    fn unit(&self) -> i32 {
        self.spec.unit
    }

    /// True where the option can be read.
    #[getter]
    fn readable(&self) -> bool {
        self.spec.readable
    }

    /// True where the option can be set.
    #[getter]
    fn writable(&self) -> bool {
        self.spec.writable
    }

    /// How Python reaches the option: ``"property"``, a property of ``Socket`` made from
    /// this row; ``"own"``, a property or method of its own (``protocol``, ``subscribe``);
    /// ``"call"``, only ``getsockopt``/``setsockopt``.
    #[getter]
    fn face(&self) -> &'static str {
        match self.spec.face {
            Face::Property => "property",
            Face::OwnCode => "own",
            Face::Call => "call",
        }
    }

    /// The least value the binding accepts (for a str: 0), or None for any.
    #[getter]
    fn min(&self) -> Option<i32> {
        self.spec.range.map(|r| r.min)
    }

    /// The greatest value the binding accepts (for a str: its most bytes), or None.
    #[getter]
    fn max(&self) -> Option<i32> {
        self.spec.range.map(|r| r.max)
    }

    /// The accepted values in words (``"from 1 (highest) to 16"``), or None.
    #[getter]
    fn range_text(&self) -> Option<&'static str> {
        self.spec.range.map(|r| r.text)
    }

    /// The protocol whose sockets alone have the option, or None.
    #[getter]
    fn protocol(&self) -> Option<i32> {
        match self.spec.only {
            Only::Protocol(p) => Some(p),
            _ => None,
        }
    }

    /// ``"send"`` or ``"recv"`` for an option only the sockets that can send, or receive,
    /// have; None.
    #[getter]
    fn direction(&self) -> Option<&'static str> {
        match self.spec.only {
            Only::Sending => Some("send"),
            Only::Receiving => Some("recv"),
            _ => None,
        }
    }

    /// What the nng backend does otherwise, in words, or None where it does the same.
    #[getter]
    fn nng(&self) -> Option<&'static str> {
        match self.spec.nng {
            Nng::Same => None,
            Nng::Unsupported(why) | Nng::RefusesValue(_, why) | Nng::Binding(why) => Some(why),
            Nng::CString => Some("stored as a C string (no NUL inside)"),
        }
    }

    /// For an option of nanomsg-rs's hardened libnanomsg's own: what a build on the system
    /// libnanomsg says of it (it lacks it); else None.
    #[getter]
    fn hardened_only(&self) -> Option<&'static str> {
        self.spec.hardened_only
    }

    /// ``"ignored"`` (the library ignores the option) or ``"later-endpoints"`` (it applies
    /// to the endpoints added after it), which a set warns about; or None.
    #[getter]
    fn caveat(&self) -> Option<&'static str> {
        match self.spec.caveat? {
            Caveat::Ignored(_) => Some("ignored"),
            Caveat::LaterEndpoints => Some("later-endpoints"),
        }
    }

    /// The property's docstring.
    #[getter]
    fn doc(&self) -> &'static str {
        self.spec.doc
    }

    fn __repr__(&self) -> String {
        format!(
            "<OptionSpec {} (level {}, option {})>",
            self.spec.name, self.spec.place.level, self.spec.place.option
        )
    }
}

/// `_native.OPTIONS`: every row, in the table's order.
pub fn all_specs(py: Python<'_>) -> PyResult<Bound<'_, PyTuple>> {
    let rows = OPTIONS
        .iter()
        .map(|spec| Bound::new(py, PyOptionSpec { spec }))
        .collect::<PyResult<Vec<_>>>()?;
    PyTuple::new(py, rows)
}
