//! Finds the system libnanomsg through pkg-config and links it.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if let Err(err) = pkg_config::Config::new()
        .atleast_version("1.0")
        .probe("nanomsg")
    {
        // One line, naming what to install; cargo prints it as the build error.
        eprintln!("{err}");
        panic!(
            "libnanomsg (>= 1.0) not found by pkg-config: install it first \
             (Debian/Ubuntu: `apt-get install libnanomsg-dev`)"
        );
    }
}
