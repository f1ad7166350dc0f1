//! TL serialization and deserialization, ours (`auth-api`'s generated bindings over `tl-wire`)
//! against `grammers-tl-types` 0.11 (the same layer-230 schema), on byte-identical values:
//! each setup checks that both sides write or read exactly the same bytes.

use std::hint::black_box;

use auth_api::{enums, functions, types, Deserialize, Serialize};
use gr::{Deserializable, Serializable};
use grammers_tl_types as gr;

use crate::harness::{compare, Figure, Plan, Unit, Whole};

const PHONE: &str = "+999661234567";
const API_ID: i32 = 611_335;
const API_HASH: &str = "d524b414d21f4d37f08684c1df41ac9c";

/// Our `auth.sendCode` as the client sends it (a future auth token offered).
pub fn our_send_code() -> functions::auth::SendCode {
    functions::auth::SendCode::new(
        PHONE.into(),
        API_ID,
        API_HASH.into(),
        types::CodeSettings {
            allow_flashcall: false,
            current_number: true,
            allow_app_hash: true,
            allow_missed_call: false,
            allow_firebase: false,
            unknown_number: false,
            logout_tokens: Some(vec![vec![0x5a; 32]].into()),
            token: None,
            app_sandbox: None,
        }
        .into(),
    )
}

/// The same request built with grammers.
pub fn peer_send_code() -> gr::functions::auth::SendCode {
    gr::functions::auth::SendCode {
        phone_number: PHONE.into(),
        api_id: API_ID,
        api_hash: API_HASH.into(),
        settings: gr::enums::CodeSettings::Settings(gr::types::CodeSettings {
            allow_flashcall: false,
            current_number: true,
            allow_app_hash: true,
            allow_missed_call: false,
            allow_firebase: false,
            unknown_number: false,
            logout_tokens: Some(vec![vec![0x5a; 32]]),
            token: None,
            app_sandbox: None,
        }),
    }
}

/// `auth.authorization` with a full `user`: names, username, phone, photo, status,
/// restriction reasons, language, emoji status, two usernames, colors.
pub fn authorization_bytes() -> Vec<u8> {
    let user = types::User {
        self_: true,
        contact: false,
        mutual_contact: false,
        deleted: false,
        bot: false,
        bot_chat_history: false,
        bot_nochats: false,
        verified: true,
        restricted: true,
        min: false,
        bot_inline_geo: false,
        support: false,
        scam: false,
        apply_min_photo: true,
        fake: false,
        bot_attach_menu: false,
        premium: true,
        attach_menu_enabled: false,
        bot_can_edit: false,
        close_friend: false,
        stories_hidden: false,
        stories_unavailable: true,
        contact_require_premium: false,
        bot_business: false,
        bot_has_main_app: false,
        bot_forum_view: false,
        bot_forum_can_manage_topics: false,
        bot_can_manage_bots: false,
        bot_guestchat: false,
        bot_guard: false,
        id: 7_123_456_789,
        access_hash: Some(-4_242_424_242_424_242),
        first_name: Some("Ada".into()),
        last_name: Some("Lovelace".into()),
        username: Some("ada_lovelace".into()),
        phone: Some("999661234567".into()),
        photo: Some(
            types::UserProfilePhoto {
                has_video: false,
                personal: false,
                photo_id: 5_555_555_555_555,
                stripped_thumb: Some(vec![1, 40, 40, 0x55, 0xaa, 0x12, 0x34, 0x56, 0x78]),
                dc_id: 2,
            }
            .into(),
        ),
        status: Some(
            types::UserStatusOnline {
                expires: 1_790_000_000,
            }
            .into(),
        ),
        bot_info_version: None,
        restriction_reason: Some(vec![types::RestrictionReason {
            platform: "ios".into(),
            reason: "porn".into(),
            text: "This account cannot be displayed on iOS.".into(),
        }
        .into()]),
        bot_inline_placeholder: None,
        lang_code: Some("en".into()),
        emoji_status: Some(
            types::EmojiStatus {
                document_id: 5_368_324_170_671_202_286,
                until: Some(1_800_000_000),
            }
            .into(),
        ),
        usernames: Some(vec![
            types::Username {
                editable: true,
                active: true,
                deletable: false,
                expired: false,
                username: "ada_lovelace".into(),
            }
            .into(),
            types::Username {
                editable: false,
                active: true,
                deletable: false,
                expired: false,
                username: "analytical_engine".into(),
            }
            .into(),
        ]),
        stories_max_id: None,
        color: Some(
            types::PeerColor {
                color: Some(5),
                background_emoji_id: Some(5_310_045_076_531_057_412),
            }
            .into(),
        ),
        profile_color: Some(
            types::PeerColor {
                color: Some(3),
                background_emoji_id: None,
            }
            .into(),
        ),
        bot_active_users: None,
        bot_verification_icon: None,
        send_paid_messages_stars: None,
        linked_community_id: None,
    };
    let authorization: enums::auth::Authorization = types::auth::Authorization {
        setup_password_required: false,
        otherwise_relogin_days: None,
        tmp_sessions: None,
        future_auth_token: Some(vec![0x33; 32].into()),
        user: user.into(),
    }
    .into();
    authorization.to_bytes()
}

/// `serialize_send_code`, `serialize_send_code_reused`, `deserialize_authorization`.
pub fn figures(plan: Plan) -> Vec<Figure> {
    let ours = our_send_code();
    let peer = peer_send_code();
    assert_eq!(ours.to_bytes(), peer.to_bytes(), "the two sendCode differ");
    let bytes = authorization_bytes();
    let parsed = gr::enums::auth::Authorization::from_bytes(&bytes).expect("grammers reads it");
    assert_eq!(parsed.to_bytes(), bytes, "grammers reads another value");
    enums::auth::Authorization::from_bytes(&bytes).expect("we read it");

    let mut out = Vec::new();
    out.push(compare(
        plan,
        "serialize_send_code",
        Unit::Ns,
        "grammers-tl-types 0.11 to_bytes",
        &mut Whole(|| {
            black_box(black_box(&ours).to_bytes());
        }),
        &mut Whole(|| {
            black_box(black_box(&peer).to_bytes());
        }),
    ));
    let mut ours_buf = Vec::with_capacity(256);
    let mut peer_buf = Vec::with_capacity(256);
    out.push(compare(
        plan,
        "serialize_send_code_reused",
        Unit::Ns,
        "grammers-tl-types 0.11 serialize",
        &mut Whole(|| {
            ours_buf.clear();
            black_box(&ours).serialize(&mut ours_buf);
            black_box(&ours_buf);
        }),
        &mut Whole(|| {
            peer_buf.clear();
            black_box(&peer).serialize(&mut peer_buf);
            black_box(&peer_buf);
        }),
    ));
    out.push(compare(
        plan,
        "deserialize_authorization",
        Unit::Ns,
        "grammers-tl-types 0.11 from_bytes",
        &mut Whole(|| {
            black_box(enums::auth::Authorization::from_bytes(black_box(&bytes)).ok());
        }),
        &mut Whole(|| {
            black_box(gr::enums::auth::Authorization::from_bytes(black_box(&bytes)).ok());
        }),
    ));
    out
}

/// One call of a figure's operation, for instruction counting (`count` mode).
pub fn count_op(figure: &str, peer: bool) -> Option<Box<dyn FnMut()>> {
    let bytes = authorization_bytes();
    Some(match (figure, peer) {
        ("serialize_send_code", false) => {
            let v = our_send_code();
            Box::new(move || {
                black_box(black_box(&v).to_bytes());
            })
        }
        ("serialize_send_code", true) => {
            let v = peer_send_code();
            Box::new(move || {
                black_box(black_box(&v).to_bytes());
            })
        }
        ("serialize_send_code_reused", false) => {
            let v = our_send_code();
            let mut buf = Vec::with_capacity(256);
            Box::new(move || {
                buf.clear();
                black_box(&v).serialize(&mut buf);
                black_box(&buf);
            })
        }
        ("serialize_send_code_reused", true) => {
            let v = peer_send_code();
            let mut buf = Vec::with_capacity(256);
            Box::new(move || {
                buf.clear();
                black_box(&v).serialize(&mut buf);
                black_box(&buf);
            })
        }
        ("deserialize_authorization", false) => Box::new(move || {
            black_box(enums::auth::Authorization::from_bytes(black_box(&bytes)).ok());
        }),
        ("deserialize_authorization", true) => Box::new(move || {
            black_box(gr::enums::auth::Authorization::from_bytes(black_box(&bytes)).ok());
        }),
        _ => return None,
    })
}
