//! Compiles proto/payment.proto with the protoc that protoc-bin-vendored
//! ships (no system protoc needed).
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: build scripts are single-threaded; prost-build reads PROTOC.
    unsafe { std::env::set_var("PROTOC", protoc) };
    tonic_prost_build::compile_protos("proto/payment.proto")?;
    println!("cargo:rerun-if-changed=proto/payment.proto");
    Ok(())
}
