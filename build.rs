//! Links the C library behind the nanomsg API. Three choices:
//!
//! - by default, our hardened libnanomsg: upstream 1.1.5 (Debian's source package, or a tree or
//!   tarball named by `NANOMSG_RS_SOURCE`) with the patch series of `nanomsg/patches/`,
//!   compiled here with the cc crate and linked statically. Without the source it falls back
//!   to the system library, with a one-line warning;
//! - the feature `system-libnanomsg`: the system libnanomsg, found with pkg-config (for
//!   distributions);
//! - the feature `nng`: nng's nanomsg-compatible library.
//!
//! Tells the crate which it got: `cfg(nanomsg_hardened)`, and `NANOMSG_RS_LIBRARY`, the
//! library's version as `nn.LIBRARY_VERSION` reports it for a hardened build, and
//! `NANOMSG_RS_MAX_SOCKETS`, the build's `NN_MAX_SOCKETS` (`nanomsg/defines.txt`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(nanomsg_hardened)");
    if std::env::var_os("CARGO_FEATURE_NNG").is_some() {
        link_nng();
    } else if std::env::var_os("CARGO_FEATURE_SYSTEM_LIBNANOMSG").is_some() {
        link_system_nanomsg();
    } else if let Err(why) = build_hardened() {
        println!("cargo:warning=no libnanomsg source ({why}): building on the system libnanomsg, which is not hardened");
        link_system_nanomsg();
    }
}

/// Prepares the patched tree with `nanomsg/prepare-source`, compiles it and links it.
/// `Err` (with the reason) only when there is no source; any other failure stops the build.
fn build_hardened() -> Result<(), String> {
    let manifest = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let dir = manifest.join("nanomsg");
    for watched in [
        "prepare-source",
        "source.env",
        "defines.txt",
        "patches",
        "upstream",
    ] {
        println!("cargo:rerun-if-changed={}", dir.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=NANOMSG_RS_SOURCE");

    let out_dir = PathBuf::from(env("OUT_DIR"));
    let prepared = Command::new("bash")
        .arg(dir.join("prepare-source"))
        .arg(out_dir.join("libnanomsg"))
        .output()
        .expect("cannot run bash for nanomsg/prepare-source");
    let stderr = String::from_utf8_lossy(&prepared.stderr);
    match prepared.status.code() {
        Some(0) => {}
        Some(3) => return Err(stderr.trim().to_string()),
        _ => panic!("nanomsg/prepare-source failed:\n{stderr}"),
    }
    let tree = PathBuf::from(String::from_utf8_lossy(&prepared.stdout).trim());
    // The headers as C programs include them (<nanomsg/nn.h>), for nanomsg/link-flags.
    let include = out_dir.join("include");
    std::fs::create_dir_all(&include).expect("create the include directory");
    let headers = include.join("nanomsg");
    let _ = std::fs::remove_file(&headers);
    std::os::unix::fs::symlink(tree.join("src"), &headers).expect("link the headers");

    let openssl = find_openssl();
    let mut build = cc::Build::new();
    build
        .includes(&openssl.include_paths)
        .include(tree.join("src"))
        .warnings(false)
        // The C API (NN_EXPORT) is the extension's to export, nothing else of the library:
        // a detached socket number stays usable from C or ctypes on the extension itself.
        .flag("-fvisibility=hidden")
        .define(
            "NN_EXPORT",
            "extern __attribute__((visibility(\"default\")))",
        )
        // Debian's hardening flags, kept as a second line of defence.
        .flag("-fstack-protector-strong")
        .define("_FORTIFY_SOURCE", "2")
        .opt_level(2);
    let defines = std::fs::read_to_string(dir.join("defines.txt")).expect("nanomsg/defines.txt");
    let mut max_sockets = None;
    for line in defines.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once('=') {
            Some((name, value)) => {
                if name == "NN_MAX_SOCKETS" {
                    max_sockets = Some(value.to_string());
                }
                build.define(name, value)
            }
            None => build.define(line, None),
        };
    }
    let max_sockets = max_sockets.expect("NN_MAX_SOCKETS in nanomsg/defines.txt");
    println!("cargo:rustc-env=NANOMSG_RS_MAX_SOCKETS={max_sockets}");
    let mut sources = Vec::new();
    c_sources(&tree.join("src"), &mut sources);
    sources.sort();
    // Whole: the exported C API includes what the binding itself never calls (nn_poll).
    build
        .link_lib_modifier("+whole-archive")
        .files(&sources)
        .compile("nanomsg");
    // Export the C API from the extension (rustc's own version script would keep it local),
    // and bind the extension's calls to its own copy: never to another libnanomsg that the
    // process may have loaded.
    let exports = out_dir.join("nanomsg-exports.map");
    std::fs::write(&exports, "{ global: nn_*; };\n").expect("write the export list");
    println!(
        "cargo:rustc-cdylib-link-arg=-Wl,--version-script={}",
        exports.display()
    );
    println!("cargo:rustc-cdylib-link-arg=-Wl,-Bsymbolic");
    link_openssl(&openssl);
    // getaddrinfo_a: in libc itself since glibc 2.34, in libanl before.
    println!("cargo:rustc-link-lib=dylib=anl");
    println!("cargo:rustc-link-lib=dylib=pthread");

    let patches = std::fs::read_dir(dir.join("patches"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "patch"))
                .count()
        })
        .unwrap_or(0);
    let version = source_setting(&dir, "NN_UPSTREAM_VERSION");
    println!("cargo:rustc-env=NANOMSG_RS_LIBRARY={version}+nanomsg-rs.{patches}");
    println!("cargo:rustc-cfg=nanomsg_hardened");
    Ok(())
}

/// OpenSSL (1.1.1 or later: TLS 1.3), for the tls+tcp and wss transports: its headers and
/// where its archives are.
fn find_openssl() -> pkg_config::Library {
    pkg_config::Config::new()
        .atleast_version("1.1.1")
        .cargo_metadata(false)
        .probe("openssl")
        .unwrap_or_else(|err| {
            eprintln!("{err}");
            panic!(
                "OpenSSL (>= 1.1.1, with its static archives) not found by pkg-config: install \
                 it first (Debian/Ubuntu: `apt-get install libssl-dev`)"
            )
        })
}

/// Links libssl and libcrypto statically: the wheel stays one shared object that needs nothing
/// but the C library (tests/test_wheel.py), whatever OpenSSL the system has or lacks. Its
/// symbols stay inside the extension (the export list names `nn_*` only, and `-Bsymbolic`
/// binds the library's calls to this copy), so the copy Python's `ssl` module loads is
/// another, untouched.
fn link_openssl(openssl: &pkg_config::Library) {
    // pkg-config leaves the system's own directory out of its flags: ask for it.
    if let Ok(dir) = pkg_config::get_variable("openssl", "libdir") {
        println!("cargo:rustc-link-search=native={dir}");
    }
    for dir in &openssl.link_paths {
        println!("cargo:rustc-link-search=native={}", dir.display());
    }
    println!("cargo:rustc-link-lib=static=ssl");
    println!("cargo:rustc-link-lib=static=crypto");
}

/// Every C file of the library: all of `src/` but the stopwatch, which only its tests use.
fn c_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read the libnanomsg tree") {
        let path = entry.expect("read the libnanomsg tree").path();
        if path.is_dir() {
            c_sources(&path, out);
        } else if path.extension().is_some_and(|x| x == "c") && !path.ends_with("utils/stopwatch.c")
        {
            out.push(path);
        }
    }
}

/// One `NAME=value` of `nanomsg/source.env`.
fn source_setting(dir: &Path, name: &str) -> String {
    let text = std::fs::read_to_string(dir.join("source.env")).expect("nanomsg/source.env");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("{name} missing from nanomsg/source.env"))
        .trim()
        .to_string()
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo sets {name}"))
}

fn link_system_nanomsg() {
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
