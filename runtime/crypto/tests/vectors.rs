//! Published test vectors, each with its source.

use aes::Aes128;
use cipher::KeyInit;
use mtproto_crypto::dh::{PrimeCache, TELEGRAM_DH_PRIME};
use mtproto_crypto::ige::{decrypt_ige, decrypt_ige_with, encrypt_ige, encrypt_ige_with};
use mtproto_crypto::keys::{self, AuthKey, Direction};
use mtproto_crypto::message;
use mtproto_crypto::srp::{self, SrpParams};
use mtproto_crypto::{factorize, DhSecret};

fn counting<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = i as u8;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// OpenSSL test/igetest.c, `ige_test_vectors` (AES-128; they test the mode, so the generic IGE
// core runs them with `aes::Aes128`).

#[test]
fn openssl_ige_vector_0_encrypt() {
    let key: [u8; 16] = counting();
    let iv: [u8; 32] = counting();
    let mut data = [0u8; 32];
    let expected = [
        0x1a, 0x85, 0x19, 0xa6, 0x55, 0x7b, 0xe6, 0x52, 0xe9, 0xda, 0x8e, 0x43, 0xda, 0x4e, 0xf4,
        0x45, 0x3c, 0xf4, 0x56, 0xb4, 0xca, 0x48, 0x8a, 0xa3, 0x83, 0xc7, 0x9c, 0x98, 0xb3, 0x47,
        0x97, 0xcb,
    ];
    let cipher = Aes128::new(&key.into());
    encrypt_ige_with(&cipher, &mut data, &iv).unwrap();
    assert_eq!(data, expected);
    decrypt_ige_with(&cipher, &mut data, &iv).unwrap();
    assert_eq!(data, [0u8; 32]);
}

#[test]
fn openssl_ige_vector_1_decrypt() {
    // A decryption vector: OpenSSL feeds `in` to AES_ige_encrypt(..., AES_DECRYPT) and expects `out`.
    let key = *b"This is an imple";
    let iv = *b"mentation of IGE mode for OpenSS";
    let input = *b"L. Let's hope Ben got it right!\n";
    let output = [
        0x99, 0x70, 0x64, 0x87, 0xa1, 0xcd, 0xe6, 0x13, 0xbc, 0x6d, 0xe0, 0xb6, 0xf2, 0x4b, 0x1c,
        0x7a, 0xa4, 0x48, 0xc8, 0xb9, 0xc3, 0x40, 0x3e, 0x34, 0x67, 0xa8, 0xca, 0xd8, 0x93, 0x40,
        0xf5, 0x3b,
    ];
    let cipher = Aes128::new(&key.into());
    let mut data = input;
    decrypt_ige_with(&cipher, &mut data, &iv).unwrap();
    assert_eq!(data, output);
    encrypt_ige_with(&cipher, &mut data, &iv).unwrap();
    assert_eq!(data, input);
}

// ---------------------------------------------------------------------------------------------
// grammers-crypto src/lib.rs tests (Lonami/grammers): AES-256-IGE with key = iv = data = 0..31.

#[test]
fn grammers_aes256_ige() {
    let kiv: [u8; 32] = counting();
    let mut data = kiv;
    encrypt_ige(&mut data, &kiv, &kiv).unwrap();
    assert_eq!(
        data,
        [
            226, 129, 18, 165, 62, 92, 137, 199, 177, 234, 128, 113, 193, 51, 105, 159, 212, 232,
            107, 38, 196, 186, 201, 252, 90, 241, 171, 140, 226, 122, 68, 164,
        ]
    );
    let mut data = kiv;
    decrypt_ige(&mut data, &kiv, &kiv).unwrap();
    assert_eq!(
        data,
        [
            229, 119, 122, 250, 205, 123, 44, 22, 247, 172, 64, 202, 230, 30, 246, 3, 254, 230, 9,
            143, 184, 168, 134, 10, 185, 238, 103, 44, 215, 229, 186, 204,
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// MTProto 2.0 key derivation with auth_key = 0..255 and msg_key = 0..15: grammers-crypto
// src/lib.rs tests `calc_client_key` / `calc_server_key`.

#[test]
fn grammers_mtproto2_key_derivation() {
    let auth_key = AuthKey::from_bytes(counting());
    let msg_key: [u8; 16] = counting();
    let client = keys::derive_v2(&auth_key, Direction::ClientToServer, &msg_key);
    assert_eq!(
        client.key(),
        &[
            112, 78, 208, 156, 139, 65, 102, 138, 232, 249, 157, 36, 71, 56, 247, 29, 189, 220, 68,
            70, 155, 107, 189, 74, 168, 87, 61, 208, 66, 189, 5, 158,
        ]
    );
    assert_eq!(
        client.iv(),
        &[
            77, 38, 96, 0, 165, 80, 237, 171, 191, 76, 124, 228, 15, 208, 4, 60, 201, 34, 48, 24,
            76, 211, 23, 165, 204, 156, 36, 130, 253, 59, 147, 24,
        ]
    );
    let server = keys::derive_v2(&auth_key, Direction::ServerToClient, &msg_key);
    assert_eq!(
        server.key(),
        &[
            33, 119, 37, 121, 155, 36, 88, 6, 69, 129, 116, 161, 252, 251, 200, 131, 144, 104, 7,
            177, 80, 51, 253, 208, 234, 43, 77, 105, 207, 156, 54, 78,
        ]
    );
    assert_eq!(
        server.iv(),
        &[
            102, 154, 101, 56, 145, 122, 79, 165, 108, 163, 35, 96, 164, 49, 201, 22, 11, 228, 173,
            136, 113, 64, 152, 13, 171, 145, 206, 123, 220, 71, 255, 188,
        ]
    );
}

/// grammers-crypto tests/lib.rs `encrypt_client_data_v2`: auth_key = 0..255, 19 zero padding
/// bytes (its padding rule gives 16 + 3 for a 45-byte plaintext).
#[test]
fn grammers_mtproto2_encrypt_client_message() {
    let auth_key = AuthKey::from_bytes(counting());
    let plaintext = b"Hello, world! This data should remain secure!";
    let out = message::encrypt_v2_with_padding(
        &auth_key,
        Direction::ClientToServer,
        plaintext,
        &[0u8; 19],
    )
    .unwrap();
    let expected = [
        50, 209, 88, 110, 164, 87, 223, 200, 168, 23, 41, 212, 109, 181, 64, 25, 162, 191, 215,
        247, 68, 249, 185, 108, 79, 113, 108, 253, 196, 71, 125, 178, 162, 193, 95, 109, 219, 133,
        35, 95, 185, 85, 47, 29, 132, 7, 198, 170, 234, 0, 204, 132, 76, 90, 27, 246, 172, 68, 183,
        155, 94, 220, 42, 35, 134, 139, 61, 96, 115, 165, 144, 153, 44, 15, 41, 117, 36, 61, 86,
        62, 161, 128, 210, 24, 238, 117, 124, 154,
    ];
    assert_eq!(out, expected);
    // And the server side opens it again.
    let plain = message::decrypt_v2(&auth_key, Direction::ClientToServer, &out).unwrap();
    assert_eq!(&plain[..plaintext.len()], plaintext);
}

/// grammers-crypto src/lib.rs `decrypt_server_data_v2`: a real server message.
#[test]
fn grammers_mtproto2_decrypt_server_message() {
    let ciphertext = [
        122, 113, 131, 194, 193, 14, 79, 77, 249, 69, 250, 154, 154, 189, 53, 231, 195, 132, 11,
        97, 240, 69, 48, 79, 57, 103, 76, 25, 192, 226, 9, 120, 79, 80, 246, 34, 106, 7, 53, 41,
        214, 117, 201, 44, 191, 11, 250, 140, 153, 167, 155, 63, 57, 199, 42, 93, 154, 2, 109, 67,
        26, 183, 64, 124, 160, 78, 204, 85, 24, 125, 108, 69, 241, 120, 113, 82, 78, 221, 144, 206,
        160, 46, 215, 40, 225, 77, 124, 177, 138, 234, 42, 99, 97, 88, 240, 148, 89, 169, 67, 119,
        16, 216, 148, 199, 159, 54, 140, 78, 129, 100, 183, 100, 126, 169, 134, 18, 174, 254, 148,
        44, 93, 146, 18, 26, 203, 141, 176, 45, 204, 206, 182, 109, 15, 135, 32, 172, 18, 160, 109,
        176, 88, 43, 253, 149, 91, 227, 79, 54, 81, 24, 227, 186, 184, 205, 8, 12, 230, 180, 91,
        40, 234, 197, 109, 205, 42, 41, 55, 78,
    ];
    let auth_key = AuthKey::from_bytes([
        93, 46, 125, 101, 244, 158, 194, 139, 208, 41, 168, 135, 97, 234, 39, 184, 164, 199, 159,
        18, 34, 101, 37, 68, 62, 125, 124, 89, 110, 243, 48, 53, 48, 219, 33, 7, 232, 154, 169,
        151, 199, 160, 22, 74, 182, 148, 24, 122, 222, 255, 21, 107, 214, 239, 113, 24, 161, 150,
        35, 71, 117, 60, 14, 126, 137, 160, 53, 75, 142, 195, 100, 249, 153, 126, 113, 188, 105,
        35, 251, 134, 232, 228, 52, 145, 224, 16, 96, 106, 108, 232, 69, 226, 250, 1, 148, 9, 119,
        239, 10, 163, 42, 223, 90, 151, 219, 246, 212, 40, 236, 4, 52, 215, 23, 162, 211, 173, 25,
        98, 44, 192, 88, 135, 100, 33, 19, 199, 150, 95, 251, 134, 42, 62, 60, 203, 10, 185, 90,
        221, 218, 87, 248, 146, 69, 219, 215, 107, 73, 35, 72, 248, 233, 75, 213, 167, 192, 224,
        184, 72, 8, 82, 60, 253, 30, 168, 11, 50, 254, 154, 209, 152, 188, 46, 16, 63, 206, 183,
        213, 36, 146, 236, 192, 39, 58, 40, 103, 75, 201, 35, 238, 229, 146, 101, 171, 23, 160, 2,
        223, 31, 74, 162, 197, 155, 129, 154, 94, 94, 29, 16, 94, 193, 23, 51, 111, 92, 118, 198,
        177, 135, 3, 125, 75, 66, 112, 206, 233, 204, 33, 7, 29, 151, 233, 188, 162, 32, 198, 215,
        176, 27, 153, 140, 242, 229, 205, 185, 165, 14, 205, 161, 133, 42, 54, 230, 53, 105, 12,
        142,
    ]);
    let expected = [
        252, 130, 106, 2, 36, 139, 40, 253, 96, 242, 196, 130, 36, 67, 173, 104, 1, 240, 193, 194,
        145, 139, 48, 94, 2, 0, 0, 0, 88, 0, 0, 0, 220, 248, 241, 115, 2, 0, 0, 0, 1, 168, 193,
        194, 145, 139, 48, 94, 1, 0, 0, 0, 28, 0, 0, 0, 8, 9, 194, 158, 196, 253, 51, 173, 145,
        139, 48, 94, 24, 168, 142, 166, 7, 238, 88, 22, 252, 130, 106, 2, 36, 139, 40, 253, 1, 204,
        193, 194, 145, 139, 48, 94, 2, 0, 0, 0, 20, 0, 0, 0, 197, 115, 119, 52, 196, 253, 51, 173,
        145, 139, 48, 94, 100, 8, 48, 0, 0, 0, 0, 0, 252, 230, 103, 4, 163, 205, 142, 233, 208,
        174, 111, 171, 103, 44, 96, 192, 74, 63, 31, 212, 73, 14, 81, 246,
    ];
    let plain = message::decrypt_v2(&auth_key, Direction::ServerToClient, &ciphertext).unwrap();
    assert_eq!(plain, expected);
    // Its header is consistent too: 88-byte msg_container body, 24 bytes of padding.
    let msg =
        message::decrypt_v2_message(&auth_key, Direction::ServerToClient, &ciphertext).unwrap();
    assert_eq!(msg.body.len(), 88);
    assert_eq!(msg.msg_id % 4, 1);
}

/// grammers-crypto src/lib.rs `key_from_nonce`: server_nonce = 0..15, new_nonce = 0..31.
#[test]
fn grammers_tmp_aes_key_from_nonces() {
    let kv = keys::tmp_aes_key_iv(&counting(), &counting());
    assert_eq!(
        kv.key(),
        &[
            7, 88, 241, 83, 59, 97, 93, 36, 246, 232, 169, 74, 111, 203, 238, 10, 85, 234, 171, 34,
            23, 215, 41, 92, 169, 33, 61, 26, 45, 125, 22, 166
        ]
    );
    assert_eq!(
        kv.iv(),
        &[
            90, 132, 16, 142, 152, 5, 101, 108, 232, 100, 7, 14, 22, 110, 98, 24, 246, 120, 62,
            133, 17, 71, 26, 90, 183, 128, 44, 242, 0, 1, 2, 3
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// SRP.

/// grammers-crypto src/two_factor_auth.rs `check_calculations_2`: Telegram's prime, g = 3,
/// password "234567", through the checked public API.
#[test]
fn grammers_srp_vector_2() {
    let salt1 = [
        0x5f, 0x48, 0x3c, 0x38, 0xbd, 0x9, 0x86, 0xe7, 0xcd, 0xc9, 0x5a, 0xe1, 0x38, 0xef, 0x4f,
        0x49, 0xb9, 0x51, 0xc1, 0xf8, 0x1c, 0x71, 0x3f, 0xec, 0xde, 0xf3, 0xaf, 0x69, 0x2c, 0xec,
        0x4b, 0x47, 0x16, 0xac, 0x9b, 0x77, 0xa, 0x19, 0x5e, 0xbe,
    ];
    let salt2 = [
        0xb6, 0x16, 0xfc, 0x6b, 0xbe, 0xdf, 0x51, 0x11, 0x19, 0xc5, 0xed, 0x34, 0x62, 0x95, 0x27,
        0xf1,
    ];
    let g_b = [
        0x93, 0xf7, 0xe, 0xbd, 0x50, 0xf6, 0x42, 0x6a, 0xca, 0x25, 0x68, 0x76, 0x95, 0x99, 0xf9,
        0x1f, 0x24, 0xd0, 0x12, 0x84, 0xcc, 0x51, 0xa4, 0x49, 0xe6, 0x2d, 0xcc, 0x15, 0x27, 0xdf,
        0xe5, 0x1, 0x26, 0xb2, 0xaa, 0x44, 0x23, 0x8e, 0x4f, 0xb2, 0x33, 0x14, 0x19, 0xed, 0x4a,
        0xeb, 0xf1, 0xa0, 0xae, 0x15, 0xe0, 0x3a, 0xbd, 0x18, 0xbf, 0xc5, 0x2c, 0xa6, 0xba, 0xec,
        0x56, 0x4c, 0x13, 0xb5, 0xa1, 0xd2, 0xe3, 0x57, 0x79, 0x98, 0x97, 0x75, 0x7b, 0xb7, 0x36,
        0xfd, 0xc2, 0xce, 0xb1, 0xb5, 0x6a, 0xac, 0xf1, 0x9a, 0xb3, 0x54, 0x8d, 0x6d, 0x92, 0x2a,
        0x52, 0x2f, 0xb, 0x51, 0xf4, 0x1, 0x24, 0xc3, 0xbc, 0x99, 0x36, 0xaf, 0xf3, 0xe1, 0xdc,
        0xfb, 0xea, 0x39, 0xac, 0x9a, 0xd2, 0xad, 0xdc, 0x6a, 0xf0, 0xad, 0x30, 0x78, 0x32, 0x78,
        0xbb, 0xb8, 0x4c, 0xab, 0xe, 0xd8, 0x46, 0x4b, 0xf, 0xfe, 0xb2, 0xb0, 0xc9, 0x3a, 0x39,
        0xa5, 0xd9, 0x7d, 0xba, 0x1, 0x5, 0x67, 0x2c, 0xa5, 0x47, 0x53, 0x73, 0xd8, 0xd2, 0x3e,
        0x54, 0xa6, 0xac, 0x9b, 0xed, 0x95, 0x19, 0xe8, 0xbe, 0xf4, 0xf0, 0x7, 0x19, 0xf5, 0xad,
        0x56, 0x15, 0x1b, 0xe5, 0x53, 0x76, 0x48, 0xdf, 0x2f, 0x8e, 0x3e, 0x72, 0x65, 0xcb, 0x57,
        0xfb, 0x94, 0xa0, 0x54, 0xce, 0x2a, 0x82, 0xb8, 0xcc, 0x66, 0x4a, 0xd0, 0x60, 0xe0, 0xd6,
        0xc6, 0xdf, 0x18, 0x79, 0x34, 0x54, 0x40, 0xeb, 0x97, 0x7f, 0xa0, 0xf2, 0xd3, 0x6f, 0x31,
        0xa2, 0x53, 0xd8, 0x91, 0x77, 0x32, 0xf1, 0x33, 0xd4, 0x0, 0x33, 0xa3, 0x4b, 0x61, 0x52,
        0x96, 0x9b, 0x60, 0xd, 0x59, 0xcd, 0xab, 0xfe, 0xa2, 0xab, 0x23, 0x93, 0xad, 0x65, 0x9e,
        0x56, 0xd6, 0x6e, 0x13, 0x60, 0x5b, 0x1f, 0x61, 0xe4, 0x8e, 0x3c, 0xd6, 0x5c, 0xf, 0x58,
        0xac,
    ];
    let a: [u8; 256] = [
        0xbf, 0x31, 0x57, 0x4f, 0x34, 0xfc, 0xe1, 0xe5, 0x38, 0x91, 0xc5, 0x9b, 0x7f, 0x62, 0x46,
        0x8a, 0xc, 0xa6, 0x82, 0xda, 0x85, 0x85, 0xdf, 0x8d, 0xe0, 0xa1, 0x88, 0x73, 0x35, 0x97,
        0x55, 0xfb, 0xb1, 0x81, 0x88, 0x78, 0xa9, 0xee, 0x91, 0x9b, 0xb1, 0xe9, 0x4d, 0x20, 0xc5,
        0xf0, 0x60, 0x7e, 0x2, 0xa3, 0x31, 0x76, 0x19, 0x9b, 0xf3, 0x22, 0x2, 0x56, 0xc9, 0xea,
        0x1a, 0x69, 0xf3, 0x95, 0xa5, 0x15, 0xd2, 0x5, 0x39, 0xd8, 0x8c, 0xda, 0x75, 0xa, 0x52,
        0x52, 0xfb, 0x86, 0x4f, 0x57, 0x3f, 0x2b, 0x3, 0x2f, 0x3b, 0x46, 0x7d, 0x8, 0xb3, 0x4f,
        0xd9, 0xc8, 0x9d, 0x1c, 0x5d, 0x6, 0x27, 0x8e, 0x11, 0x3e, 0x51, 0xd4, 0xe8, 0x93, 0xc1,
        0xc0, 0x27, 0x45, 0x5a, 0xf4, 0x65, 0x3f, 0x9, 0x66, 0x7, 0xa4, 0x15, 0x6d, 0x94, 0xfb,
        0x8e, 0x1d, 0xc7, 0xce, 0xe5, 0xbf, 0xe3, 0x28, 0x50, 0x98, 0x2f, 0x94, 0x1a, 0xe4, 0x41,
        0x4e, 0x83, 0xbf, 0x22, 0xdf, 0x56, 0x27, 0xb, 0x43, 0xb7, 0xcc, 0xc4, 0x4c, 0x26, 0xd4,
        0x8, 0x86, 0x46, 0x4d, 0xa8, 0xe3, 0x44, 0xa8, 0x54, 0x7, 0x95, 0xb8, 0xf6, 0x9b, 0x8f,
        0x50, 0x85, 0x52, 0xa7, 0x23, 0xcd, 0x69, 0x31, 0xe1, 0xd6, 0x92, 0x4, 0xe8, 0xe9, 0xdc,
        0x5, 0x6f, 0xa, 0x2a, 0x10, 0xa0, 0xd7, 0x95, 0x1e, 0x35, 0x5f, 0x3e, 0xde, 0xf5, 0xa5,
        0xe1, 0x8a, 0x90, 0x91, 0x29, 0x5a, 0x51, 0xeb, 0x9d, 0xb1, 0xb, 0x8b, 0xd, 0x30, 0x48,
        0x9c, 0x8d, 0x29, 0xbc, 0xc, 0xd8, 0x6e, 0x97, 0x78, 0x1f, 0x5e, 0x30, 0xc5, 0xb6, 0xbf,
        0xe7, 0xca, 0xf4, 0xaa, 0xe8, 0x1b, 0x28, 0x2e, 0x65, 0x3a, 0xc4, 0x8a, 0xa1, 0xa8, 0xfd,
        0xe7, 0x89, 0x72, 0x2b, 0xc0, 0x4f, 0x43, 0x20, 0xcd, 0x9f, 0x86, 0x84, 0x9f, 0xe0, 0x5c,
        0xa4,
    ];
    let expected_m1 = [
        77, 122, 244, 18, 197, 162, 231, 177, 84, 103, 55, 107, 209, 24, 184, 83, 96, 78, 104, 123,
        49, 245, 28, 73, 128, 196, 215, 193, 135, 102, 19, 227,
    ];
    let expected_g_a: [u8; 256] = [
        15, 161, 43, 198, 85, 177, 24, 122, 40, 41, 106, 105, 174, 86, 93, 104, 39, 130, 224, 206,
        176, 90, 8, 156, 12, 65, 193, 220, 233, 131, 220, 127, 74, 83, 67, 78, 167, 142, 6, 93,
        158, 28, 182, 14, 66, 123, 68, 104, 164, 120, 6, 9, 254, 186, 47, 85, 101, 78, 226, 239,
        224, 174, 183, 46, 218, 253, 226, 101, 46, 38, 237, 91, 77, 75, 170, 217, 210, 163, 129,
        128, 106, 246, 52, 22, 191, 98, 99, 223, 69, 164, 61, 133, 190, 84, 1, 188, 34, 62, 191,
        172, 9, 66, 28, 173, 221, 126, 38, 11, 214, 184, 101, 66, 19, 60, 4, 141, 108, 213, 75, 56,
        216, 226, 204, 223, 107, 85, 14, 135, 91, 19, 83, 164, 172, 254, 50, 146, 255, 181, 106,
        15, 88, 178, 163, 144, 39, 201, 191, 221, 145, 253, 76, 83, 29, 35, 199, 125, 110, 143,
        125, 88, 62, 174, 234, 49, 109, 237, 222, 214, 153, 53, 41, 108, 231, 234, 52, 233, 190,
        110, 242, 251, 216, 41, 234, 196, 201, 189, 100, 109, 193, 86, 62, 71, 247, 123, 145, 67,
        28, 160, 2, 207, 121, 252, 20, 157, 150, 130, 114, 131, 92, 21, 202, 28, 107, 44, 94, 3,
        113, 42, 46, 27, 93, 82, 245, 228, 250, 161, 193, 108, 177, 119, 250, 253, 150, 166, 170,
        91, 75, 63, 76, 100, 153, 21, 100, 75, 99, 133, 92, 251, 56, 86, 31, 241, 127, 237, 251,
        138,
    ];
    let params = SrpParams::new(
        &salt1,
        &salt2,
        3,
        &TELEGRAM_DH_PRIME,
        &mut PrimeCache::new(),
    )
    .unwrap();
    let answer =
        srp::compute_check_with_secret(&params, b"234567", &g_b, &DhSecret::from_bytes(a)).unwrap();
    assert_eq!(answer.m1, expected_m1);
    assert_eq!(answer.a, expected_g_a);
}

/// gotd/td internal/crypto/srp/new_hash_test.go `TestSRP_NewHash`: the verifier v = g^x mod p
/// for password "newPassword", with salt1 extended by 32 zero bytes (gotd's zero RNG).
#[test]
fn gotd_srp_verifier() {
    let mut salt1 = vec![230, 200, 149, 125, 223, 152, 141, 72];
    salt1.extend_from_slice(&[0u8; 32]);
    let salt2 = [
        159, 99, 68, 130, 43, 9, 108, 255, 135, 239, 164, 38, 245, 120, 87, 182,
    ];
    let expected: [u8; 256] = [
        24, 106, 193, 141, 204, 87, 144, 191, 107, 186, 33, 189, 149, 141, 55, 94, 229, 72, 26,
        240, 2, 158, 155, 215, 169, 198, 142, 201, 38, 189, 81, 150, 216, 31, 140, 216, 181, 142,
        224, 108, 138, 16, 173, 234, 204, 127, 86, 232, 25, 255, 81, 72, 37, 222, 177, 91, 31, 173,
        236, 106, 174, 23, 162, 68, 203, 35, 72, 141, 23, 52, 156, 212, 38, 26, 139, 164, 218, 123,
        156, 44, 229, 196, 0, 20, 221, 158, 54, 39, 80, 172, 243, 172, 137, 184, 184, 245, 198, 24,
        240, 182, 165, 114, 195, 143, 255, 58, 85, 77, 136, 24, 160, 184, 231, 182, 1, 94, 24, 54,
        18, 138, 30, 78, 45, 92, 249, 151, 29, 29, 208, 72, 170, 24, 29, 134, 17, 82, 234, 231, 21,
        83, 150, 38, 128, 99, 35, 135, 184, 154, 193, 134, 95, 222, 215, 200, 195, 218, 166, 78,
        211, 141, 194, 80, 54, 102, 63, 160, 207, 119, 72, 197, 46, 161, 156, 24, 126, 112, 167,
        82, 168, 5, 62, 64, 157, 72, 148, 33, 138, 66, 147, 147, 208, 51, 130, 228, 30, 80, 183,
        65, 91, 59, 138, 208, 146, 253, 7, 144, 248, 141, 137, 78, 132, 220, 167, 143, 71, 244, 33,
        137, 55, 215, 170, 153, 216, 140, 135, 192, 155, 203, 141, 168, 144, 229, 53, 2, 102, 35,
        206, 166, 252, 139, 61, 37, 219, 112, 203, 66, 170, 164, 131, 35, 146, 125, 135, 168, 252,
        241,
    ];
    let params = SrpParams::new(
        &salt1,
        &salt2,
        3,
        &TELEGRAM_DH_PRIME,
        &mut PrimeCache::new(),
    )
    .unwrap();
    assert_eq!(srp::compute_verifier(&params, b"newPassword"), expected);
}

// ---------------------------------------------------------------------------------------------
// pq factorization.

#[test]
fn factorization_cases() {
    // core.telegram.org/mtproto/auth_key (and the older samples-auth_key revision):
    // 0x17ED48941A08F981 = 0x494C553B * 0x53911073.
    assert_eq!(
        factorize(0x17ED_4894_1A08_F981),
        Ok((0x494C_553B, 0x5391_1073))
    );
    // PROTOCOL.md section 10 (from peers' tests): 0x14fcab4dfc861f45 = 0x494c5c99 * 0x494c778d.
    assert_eq!(
        factorize(0x14fc_ab4d_fc86_1f45),
        Ok((0x494c_5c99, 0x494c_778d))
    );
    // An even pq: 2 * 1000000000000000003 (PROTOCOL.md section 10).
    assert_eq!(
        factorize(2_000_000_000_000_000_006),
        Ok((2, 1_000_000_000_000_000_003))
    );
    // Current samples-auth_key revision: 1468428376148703121 = 1008949199 * 1455403679.
    assert_eq!(
        factorize(1_468_428_376_148_703_121),
        Ok((1_008_949_199, 1_455_403_679))
    );
    // Other samples-auth_key revisions (PROTOCOL.md section 10 and the page's history).
    assert_eq!(
        factorize(2_694_724_800_268_887_959),
        Ok((1_513_098_571, 1_780_931_429))
    );
    assert_eq!(
        factorize(2_289_844_033_317_725_111),
        Ok((1_338_315_091, 1_710_990_221))
    );
}
