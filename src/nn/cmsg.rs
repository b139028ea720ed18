//! The SP header as control data (`nn_cmsghdr`): how `nn_sendmsg` takes it and `nn_recvmsg`
//! hands it out. The header travels as one control message of level `PROTO_SP`, type
//! `SP_HDR`, whose data is a `size_t` length followed by the header's bytes.

use crate::ffi;

/// The control buffer that carries `header` for `nn_sendmsg`.
pub fn encode(header: &[u8]) -> Vec<u8> {
    let mut data = header.len().to_ne_bytes().to_vec();
    data.extend_from_slice(header);
    let mut control = vec![0; ffi::nn_cmsg_space(data.len())];
    let cmsg = ffi::nn_cmsghdr {
        cmsg_len: ffi::nn_cmsg_len(data.len()),
        cmsg_level: ffi::PROTO_SP,
        cmsg_type: ffi::SP_HDR,
    };
    let at = ffi::nn_cmsg_align(std::mem::size_of::<ffi::nn_cmsghdr>());
    // SAFETY: control is at least size_of::<nn_cmsghdr>() bytes; unaligned write.
    unsafe { std::ptr::write_unaligned(control.as_mut_ptr().cast(), cmsg) };
    control[at..at + data.len()].copy_from_slice(&data);
    control
}

/// Extracts the SP header from a control buffer received with `nn_recvmsg`.
pub fn decode(control: &[u8]) -> Option<Vec<u8>> {
    let hdr_size = std::mem::size_of::<ffi::nn_cmsghdr>();
    let data_at = ffi::nn_cmsg_align(hdr_size);
    let mut at = 0;
    while at + hdr_size <= control.len() {
        // SAFETY: at + hdr_size is within control; the read is unaligned-safe.
        let cmsg: ffi::nn_cmsghdr =
            unsafe { std::ptr::read_unaligned(control[at..].as_ptr().cast()) };
        if cmsg.cmsg_len < data_at || at + cmsg.cmsg_len > control.len() {
            return None;
        }
        if cmsg.cmsg_level == ffi::PROTO_SP && cmsg.cmsg_type == ffi::SP_HDR {
            // The data is a size_t length followed by the header bytes.
            let data = &control[at + data_at..at + cmsg.cmsg_len];
            let word = std::mem::size_of::<usize>();
            if data.len() < word {
                return None;
            }
            let n = usize::from_ne_bytes(data[..word].try_into().ok()?);
            return data.get(word..word + n).map(<[u8]>::to_vec);
        }
        at += ffi::nn_cmsg_align(cmsg.cmsg_len);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_survives_encode_and_decode() {
        for header in [&b""[..], b"\x80\x00\x00\x01", &[7; 33]] {
            assert_eq!(decode(&encode(header)).as_deref(), Some(header));
        }
    }
}
