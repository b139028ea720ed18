//! Links the C library behind the nanomsg API: the system libnanomsg, found with
//! pkg-config, or with the `nng` feature nng's nanomsg-compatible library.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_NNG").is_some() {
        link_nng();
    } else {
        link_nanomsg();
    }
}

fn link_nanomsg() {
    if let Err(err) = pkg_config::Config::new()
        .atleast_version("1.0")
        .probe("nanomsg")
    {
        eprintln!("{err}");
        // One line, naming what to install; cargo prints it as the build error.
        panic!(
            "libnanomsg (>= 1.0) not found by pkg-config: install it first \
             (Debian/Ubuntu: `apt-get install libnanomsg-dev`)"
        );
    }
}

fn link_nng() {
    // Debian's libnng-dev ships no pkg-config file; try it, then the usual places.
    if pkg_config::Config::new().probe("nng").is_ok() {
        return;
    }
    let header = "nng/compat/nanomsg/nn.h";
    let found = ["/usr/include", "/usr/local/include"]
        .iter()
        .any(|dir| Path::new(dir).join(header).exists());
    if !found {
        panic!(
            "nng (with its nanomsg compatibility layer) not found: install it first \
             (Debian/Ubuntu: `apt-get install libnng-dev`)"
        );
    }
    println!("cargo:rustc-link-lib=dylib=nng");
}
