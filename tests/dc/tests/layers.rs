//! `test_dc::layers`: answers built with the layer-230 bindings re-encoded for layer-227
//! clients (checked against mtcute 0.30.3's own layer-227 reader and writer, offline), 227
//! requests read into 230, the errors that name what has no counterpart, and hostile input
//! (truncations, random and mutated bytes, deep nesting, huge vector counts, trailing bytes).
//!
//! Run: `cargo test -p test-dc --test layers` (needs Node.js and `cargo xtask js-setup`).

use std::borrow::Cow;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use auth_api::{enums, functions, types, Serialize};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use test_dc::layers::{LayerSchemas, TranscodeError, MAX_DEPTH};
use tl_wire::RawObject;

/// `user` in layer 230 (`schema/api.tl`) and in layer 227 (`schema/legacy/layer227.tl`).
const USER_230: u32 = 0xb1b8cc83;
const USER_227: u32 = 0x31774388;
const VECTOR: u32 = 0x1cb5c415;
/// `bots.checkUsername`: `username:string` in 227; `flags:# additional:flags.0?true
/// username:string` in 230.
const CHECK_USERNAME_227: u32 = 0x87f2219b;
const CHECK_USERNAME_230: u32 = 0xe3ac4c61;
/// `bots.setCustomVerification`: `custom_description` is `flags.2?string` in 227 and
/// `flags.2?TextWithEntities` in 230.
const SET_CUSTOM_VERIFICATION_227: u32 = 0x8b89dfbd;
const SET_CUSTOM_VERIFICATION_230: u32 = 0xf4946757;
const INPUT_PEER_SELF: u32 = 0x7da07ec9;
const INVOKE_AFTER_MSG: u32 = 0xcb9f372d;
const HELP_GET_CONFIG: u32 = 0xc4f9186b;
const USERS_GET_USERS: u32 = 0x0d91a548;
const TEXT_BOLD: u32 = 0x6724abc4;
const TEXT_EMPTY: u32 = 0xdc3d824f;
/// 230 only: `communityForbidden#fd3cdab8 flags:# id:long access_hash:flags.13?long
/// title:string = Chat`.
const COMMUNITY_FORBIDDEN: u32 = 0xfd3cdab8;
/// `messages.chatInviteJoinResultWebView`: 230 has `bot_id query_id users`, 227 `bot_id
/// webview:WebViewResult users`.
const JOIN_RESULT_WEB_VIEW_230: u32 = 0x61ca29d3;
/// 230 only: `auth.initFirebasePnvLogin`.
const INIT_FIREBASE_PNV_LOGIN: u32 = 0x644f15c0;

const USER_ID: i64 = 7_000_001;
const LINKED_COMMUNITY_ID: i64 = 0x1122_3344_5566_7788;

fn schemas() -> &'static LayerSchemas {
    LayerSchemas::bundled()
}

fn user(linked_community_id: Option<i64>) -> enums::User {
    types::User {
        self_: true,
        contact: false,
        mutual_contact: false,
        deleted: false,
        bot: false,
        bot_chat_history: false,
        bot_nochats: false,
        verified: false,
        restricted: false,
        min: false,
        bot_inline_geo: false,
        support: false,
        scam: false,
        apply_min_photo: false,
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
        id: USER_ID,
        access_hash: Some(0x0bad_cafe),
        first_name: Some("Loopback".into()),
        last_name: Some("Tester".into()),
        username: Some("loopback_tester".into()),
        phone: Some("999662123".into()),
        photo: None,
        status: None,
        bot_info_version: None,
        restriction_reason: None,
        bot_inline_placeholder: None,
        lang_code: Some("en".into()),
        emoji_status: None,
        usernames: None,
        stories_max_id: None,
        color: None,
        profile_color: None,
        bot_active_users: None,
        bot_verification_icon: None,
        send_paid_messages_stars: None,
        linked_community_id,
    }
    .into()
}

/// `auth.authorization` (layer 230) around [`user`].
fn authorization(linked_community_id: Option<i64>) -> Vec<u8> {
    enums::auth::Authorization::from(types::auth::Authorization {
        setup_password_required: false,
        otherwise_relogin_days: None,
        tmp_sessions: None,
        future_auth_token: Some(b"future-token".to_vec().into()),
        user: user(linked_community_id),
    })
    .to_bytes()
}

/// A typical first request of a 227 client: `invokeWithLayer(227, initConnection(...,
/// invokeWithoutUpdates(query)))` (mtcute's order of the wrappers).
fn wrapped(query: impl Serialize) -> Vec<u8> {
    let init = functions::InitConnection::new(
        611_335,
        "layers test".into(),
        "Linux".into(),
        "0.30.3".into(),
        "en".into(),
        String::new(),
        "en".into(),
        functions::InvokeWithoutUpdates::new(query),
    );
    functions::InvokeWithLayer::new(227, init).to_bytes()
}

fn send_code() -> functions::auth::SendCode {
    functions::auth::SendCode {
        phone_number: "999662123".into(),
        api_id: 611_335,
        api_hash: "d524b414d21f4d37f08684c1df41ac9c".into(),
        settings: types::CodeSettings {
            allow_flashcall: false,
            current_number: true,
            allow_app_hash: true,
            allow_missed_call: false,
            allow_firebase: false,
            unknown_number: false,
            logout_tokens: Some(vec![vec![7; 300]].into()),
            token: None,
            app_sandbox: None,
        }
        .into(),
    }
}

/// Concatenates little-endian words and raw pieces.
fn tl(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn w(id: u32) -> [u8; 4] {
    id.to_le_bytes()
}

/// A TL `string` (short form).
fn string(s: &str) -> Vec<u8> {
    assert!(s.len() < 254);
    let mut out = vec![s.len() as u8];
    out.extend_from_slice(s.as_bytes());
    out.resize(out.len().div_ceil(4) * 4, 0);
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The one position of `word` in `bytes`.
fn position_of(bytes: &[u8], word: u32) -> usize {
    let hits: Vec<usize> = (0..bytes.len().saturating_sub(3))
        .filter(|&i| bytes[i..i + 4] == word.to_le_bytes())
        .collect();
    assert_eq!(hits.len(), 1, "{word:#010x} occurs once in {}", hex(bytes));
    hits[0]
}

fn owned(result: Result<Cow<'_, [u8]>, TranscodeError>) -> Vec<u8> {
    match result {
        Ok(Cow::Owned(bytes)) => bytes,
        other => panic!("expected re-encoded bytes, got {other:?}"),
    }
}

#[test]
fn bundled_schemas_serve_each_client_in_the_oldest_layer_it_understands() {
    let schemas = schemas();
    assert_eq!(schemas.native_layer(), 230);
    assert_eq!(schemas.layers(), [227, 230]);
    for (client, served) in [(1, 227), (100, 227), (227, 227), (228, 230), (229, 230)] {
        assert_eq!(
            schemas.served_layer(client),
            served,
            "client layer {client}"
        );
    }
    assert_eq!(schemas.served_layer(230), 230);
    assert_eq!(schemas.served_layer(231), 230);

    // One rough measurement of compiling both schemas (debug builds parse with pest
    // unoptimized); printed, not asserted.
    let start = Instant::now();
    let fresh = LayerSchemas::from_sources(
        include_str!("../../../schema/api.tl"),
        &[include_str!("../../../schema/legacy/layer227.tl")],
    )
    .expect("the bundled schemas compile");
    eprintln!("compiling layers 230 and 227 took {:?}", start.elapsed());
    assert_eq!(fresh.layers(), schemas.layers());
}

#[test]
fn user_goes_down_to_227_without_linked_community_id() {
    let unset = authorization(None);
    let set = authorization(Some(LINKED_COMMUNITY_ID));
    // The user is the last value of `auth.authorization`, `linked_community_id`
    // (flags2.21?long) the user's last field.
    let at = position_of(&unset, USER_230);
    let flags2 = at + 8;
    assert_eq!(set.len(), unset.len() + 8);
    assert_eq!(set[set.len() - 8..], LINKED_COMMUNITY_ID.to_le_bytes());
    let word = |b: &[u8]| u32::from_le_bytes(b[flags2..flags2 + 4].try_into().unwrap());
    assert_eq!(word(&set), word(&unset) | 1 << 21);
    assert_eq!(word(&unset) & 1 << 21, 0);

    // What a 227 client must get: the same bytes, with 227's `user` id.
    let mut expected = unset.clone();
    expected[at..at + 4].copy_from_slice(&w(USER_227));

    for native in [&unset, &set] {
        let down = owned(schemas().answer_to(227, native));
        assert_eq!(hex(&down), hex(&expected));
        assert_eq!(word(&down) & 1 << 21, 0, "flags2 bit 21 is cleared");
        // Served in 230: the very same bytes, not copied.
        for layer in [229, 230, 231] {
            let served = schemas().answer_to(layer, native).unwrap();
            assert!(matches!(served, Cow::Borrowed(b) if std::ptr::eq(b, native.as_slice())));
        }
    }
}

#[test]
fn a_vector_answer_goes_down_element_by_element() {
    // `users.getUsers` returns `Vector<User>`: the answer starts with the vector id.
    let native = vec![user(Some(LINKED_COMMUNITY_ID)), user(None)].to_bytes();
    let one_unset = user(None).to_bytes();
    let mut one_227 = one_unset.clone();
    one_227[..4].copy_from_slice(&w(USER_227));
    let expected = tl(&[&w(VECTOR), &2i32.to_le_bytes(), &one_227, &one_227]);
    assert_eq!(
        hex(&owned(schemas().answer_to(227, &native))),
        hex(&expected)
    );
}

/// Runs `tests/js/layers_check.mjs` on each input; a missing Node.js or mtcute fails.
fn mtcute_reads(inputs: &[&[u8]]) -> Vec<Value> {
    let js = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../js");
    let output = Command::new("node")
        .arg(js.join("layers_check.mjs"))
        .args(inputs.iter().map(|b| hex(b)))
        .current_dir(&js)
        .output()
        .expect(
            "Node.js (node on PATH) is needed: install Node.js 20+, then `cargo xtask js-setup`",
        );
    assert!(
        output.status.success(),
        "layers_check.mjs failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), inputs.len());
    lines
}

#[test]
fn mtcute_reads_what_a_227_client_gets() {
    let native = authorization(Some(LINKED_COMMUNITY_ID));
    let down = owned(schemas().answer_to(227, &native));
    let results = mtcute_reads(&[&down, &native]);

    let read = &results[0];
    assert_eq!(read["ok"], true, "{read}");
    assert_eq!(read["layer"], 227);
    assert_eq!(read["name"], "auth.authorization");
    assert_eq!(read["user"]["name"], "user");
    assert_eq!(read["user"]["id"], USER_ID.to_string());
    assert_eq!(read["user"]["first_name"], "Loopback");
    assert_eq!(read["consumed"], down.len());
    // mtcute's writer gives back exactly the transcoded bytes.
    assert_eq!(read["hex"], hex(&down));

    // The control: mtcute's 227 reader does not know layer 230's `user`.
    assert_eq!(results[1]["ok"], false, "{}", results[1]);
}

#[test]
fn requests_unchanged_since_227_pass_as_they_are() {
    for request in [
        functions::help::GetConfig {}.to_bytes(),
        send_code().to_bytes(),
        wrapped(send_code()),
        wrapped(functions::help::GetConfig {}),
        wrapped(functions::users::GetUsers {
            id: vec![types::InputUserSelf {}.into()],
        }),
    ] {
        let up = owned(schemas().request_from(227, &request));
        assert_eq!(hex(&up), hex(&request));
        let native = schemas().request_from(230, &request).unwrap();
        assert!(matches!(native, Cow::Borrowed(b) if std::ptr::eq(b, request.as_slice())));
    }
}

#[test]
fn a_request_whose_id_changed_gets_the_230_id() {
    let old = tl(&[&w(CHECK_USERNAME_227), &string("some_bot")]);
    let new = tl(&[&w(CHECK_USERNAME_230), &w(0), &string("some_bot")]);
    assert_eq!(hex(&owned(schemas().request_from(227, &old))), hex(&new));
    // Inside the wrappers too.
    let up = owned(schemas().request_from(227, &wrapped(RawObject(old))));
    assert_eq!(hex(&up), hex(&wrapped(RawObject(new))));

    // Without its retyped field, `bots.setCustomVerification` moves to 230 (flags kept).
    let old = tl(&[
        &w(SET_CUSTOM_VERIFICATION_227),
        &w(1 << 1),
        &w(INPUT_PEER_SELF),
    ]);
    let new = tl(&[
        &w(SET_CUSTOM_VERIFICATION_230),
        &w(1 << 1),
        &w(INPUT_PEER_SELF),
    ]);
    assert_eq!(hex(&owned(schemas().request_from(227, &old))), hex(&new));
    // With it, the field is named.
    let with = tl(&[
        &w(SET_CUSTOM_VERIFICATION_227),
        &w(1 << 1 | 1 << 2),
        &w(INPUT_PEER_SELF),
        &string("verified by us"),
    ]);
    assert_eq!(
        schemas().request_from(227, &with),
        Err(TranscodeError::Retyped {
            name: "bots.setCustomVerification".into(),
            field: "custom_description".into(),
        })
    );
}

#[test]
fn errors_name_what_has_no_counterpart() {
    // A 230-only constructor sent to a 227 client.
    let forbidden = tl(&[
        &w(COMMUNITY_FORBIDDEN),
        &w(0),
        &7i64.to_le_bytes(),
        &string("c"),
    ]);
    let error = schemas().answer_to(227, &forbidden).unwrap_err();
    assert_eq!(
        error,
        TranscodeError::NoCounterpart {
            name: "communityForbidden".into(),
            layer: 227,
        }
    );
    assert!(error.to_string().contains("communityForbidden"), "{error}");
    // Nested: in a vector.
    let nested = tl(&[&w(VECTOR), &1i32.to_le_bytes(), &forbidden]);
    assert!(matches!(
        schemas().answer_to(227, &nested),
        Err(TranscodeError::NoCounterpart { name, .. }) if name == "communityForbidden"
    ));

    // A required 227 field 230 does not have: `webview` of chatInviteJoinResultWebView.
    let join = tl(&[
        &w(JOIN_RESULT_WEB_VIEW_230),
        &1i64.to_le_bytes(),
        &2i64.to_le_bytes(),
        &w(VECTOR),
        &0i32.to_le_bytes(),
    ]);
    assert_eq!(
        schemas().answer_to(227, &join),
        Err(TranscodeError::MissingField {
            name: "messages.chatInviteJoinResultWebView".into(),
            field: "webview".into(),
        })
    );

    // Ids the client's layer does not have: made up, and a 230-only function.
    for id in [0xdead_beef, INIT_FIREBASE_PNV_LOGIN] {
        let error = schemas().request_from(227, &w(id)).unwrap_err();
        assert_eq!(error, TranscodeError::UnknownId { id, layer: 227 });
        assert!(
            error.to_string().contains(&format!("{id:#010x}")),
            "{error}"
        );
    }
    // A constructor where a function is expected, and the reverse.
    assert!(matches!(
        schemas().request_from(227, &w(INPUT_PEER_SELF)),
        Err(TranscodeError::WrongType { name, .. }) if name == "inputPeerSelf"
    ));
    assert!(matches!(
        schemas().answer_to(227, &w(HELP_GET_CONFIG)),
        Err(TranscodeError::WrongType { name, .. }) if name == "help.getConfig"
    ));
}

/// A cut input: the value that did not fit, or a vector count the rest cannot hold.
fn is_truncation(result: &Result<Cow<'_, [u8]>, TranscodeError>) -> bool {
    matches!(
        result,
        Err(TranscodeError::Truncated { .. } | TranscodeError::CountTooLarge { .. })
    )
}

#[test]
fn truncated_inputs_fail_at_every_length() {
    let answer = authorization(Some(LINKED_COMMUNITY_ID));
    for len in 0..answer.len() {
        let result = schemas().answer_to(227, &answer[..len]);
        assert!(is_truncation(&result), "{len}: {result:?}");
    }
    let request = wrapped(send_code());
    for len in 0..request.len() {
        let result = schemas().request_from(227, &request[..len]);
        assert!(is_truncation(&result), "{len}: {result:?}");
    }
}

#[test]
fn trailing_bytes_are_refused() {
    let mut request = wrapped(send_code());
    request.extend_from_slice(&[0; 4]);
    assert_eq!(
        schemas().request_from(227, &request),
        Err(TranscodeError::TrailingBytes { count: 4 })
    );
    let mut answer = authorization(None);
    answer.push(1);
    assert_eq!(
        schemas().answer_to(227, &answer),
        Err(TranscodeError::TrailingBytes { count: 1 })
    );
}

#[test]
fn nesting_is_capped() {
    // `invokeAfterMsg(msg_id, invokeAfterMsg(...(help.getConfig)))`.
    let nested_request = |depth: usize| {
        let mut bytes = Vec::new();
        for _ in 0..depth {
            bytes.extend_from_slice(&tl(&[&w(INVOKE_AFTER_MSG), &5i64.to_le_bytes()]));
        }
        bytes.extend_from_slice(&w(HELP_GET_CONFIG));
        bytes
    };
    let shallow = nested_request(MAX_DEPTH - 1);
    assert_eq!(owned(schemas().request_from(227, &shallow)), shallow);
    for depth in [MAX_DEPTH, 1000] {
        assert_eq!(
            schemas().request_from(227, &nested_request(depth)),
            Err(TranscodeError::TooDeep { max: MAX_DEPTH })
        );
    }
    // `textBold(textBold(...(textEmpty)))` as an answer.
    let mut answer = w(TEXT_BOLD).repeat(1000);
    answer.extend_from_slice(&w(TEXT_EMPTY));
    assert_eq!(
        schemas().answer_to(227, &answer),
        Err(TranscodeError::TooDeep { max: MAX_DEPTH })
    );
}

#[test]
fn vector_counts_are_checked_against_the_input() {
    // `users.getUsers` with 2^31-1 elements announced and 8 bytes of them.
    let input_user_self = 0xf7c1b13fu32;
    let huge = tl(&[
        &w(USERS_GET_USERS),
        &w(VECTOR),
        &i32::MAX.to_le_bytes(),
        &w(input_user_self),
        &w(input_user_self),
    ]);
    assert_eq!(
        schemas().request_from(227, &huge),
        Err(TranscodeError::CountTooLarge {
            count: i32::MAX,
            remaining: 8,
        })
    );
    let negative = tl(&[&w(USERS_GET_USERS), &w(VECTOR), &(-1i32).to_le_bytes()]);
    assert_eq!(
        schemas().request_from(227, &negative),
        Err(TranscodeError::CountTooLarge {
            count: -1,
            remaining: 0,
        })
    );
    // A top-level vector answer.
    let huge = tl(&[&w(VECTOR), &i32::MAX.to_le_bytes(), &[0; 8]]);
    assert_eq!(
        schemas().answer_to(227, &huge),
        Err(TranscodeError::CountTooLarge {
            count: i32::MAX,
            remaining: 8,
        })
    );
}

#[test]
fn random_and_mutated_bytes_never_panic() {
    let mut rng = StdRng::seed_from_u64(0x1a7e_5227);
    let samples = [
        wrapped(send_code()),
        wrapped(functions::users::GetUsers {
            id: vec![types::InputUserSelf {}.into()],
        }),
        authorization(Some(LINKED_COMMUNITY_ID)),
        vec![user(None), user(Some(1))].to_bytes(),
    ];
    let mut accepted = 0;
    for round in 0..4000 {
        let input: Vec<u8> = if round % 2 == 0 {
            let len = rng.gen_range(0..256);
            (0..len).map(|_| rng.gen()).collect()
        } else {
            let mut bytes = samples[rng.gen_range(0..samples.len())].clone();
            for _ in 0..rng.gen_range(1..4) {
                let at = rng.gen_range(0..bytes.len());
                bytes[at] = rng.gen();
            }
            if rng.gen_bool(0.25) {
                bytes.truncate(rng.gen_range(0..bytes.len()));
            }
            bytes
        };
        let results = [
            schemas().request_from(227, &input),
            schemas().answer_to(227, &input),
        ];
        for out in results.into_iter().flatten() {
            accepted += 1;
            let (from, to) = (input.len(), out.len());
            assert!(to <= 3 * from, "{from} bytes became {to}");
        }
    }
    eprintln!("{accepted} of 8000 transcodings succeeded");
}

/// Two made-up layers. Layer 1 orders `point`'s `x` and `y` the other way, has `old` (a
/// `Pair`), and puts `label` on another bit; layer 2 has `extra`, a `pair` whose two fields
/// share one bit, a `thing` whose `v` is required, and a `box` of a `Thing` (a `Pair` in 1).
const NATIVE_2: &str = "// LAYER 2
point#00000001 flags:# y:int x:int label:flags.0?string extra:flags.1?long = Point;
pair#00000003 flags:# a:flags.0?int b:flags.0?int = Pair;
thing#00000005 v:int = Thing;
box#00000007 item:Thing = Box;
---functions---
getPoint#00000010 p:Point = Point;
getPair#00000020 p:Pair = Pair;
getThing#00000030 t:Thing = Thing;
getBox#00000040 b:Box = Box;
";
const OLDER_1: &str = "// LAYER 1
point#00000002 flags:# x:int y:int old:flags.0?Pair label:flags.3?string = Point;
pair#00000004 flags:# a:flags.0?int = Pair;
thing#00000006 flags:# v:flags.0?int = Thing;
box#00000008 item:Pair = Box;
---functions---
getPoint#00000010 p:Point = Point;
getPair#00000020 p:Pair = Pair;
getThing#00000030 t:Thing = Thing;
getBox#00000040 b:Box = Box;
";

fn made_up() -> LayerSchemas {
    LayerSchemas::from_sources(NATIVE_2, &[OLDER_1]).expect("the made-up layers compile")
}

fn int(v: i32) -> [u8; 4] {
    v.to_le_bytes()
}

#[test]
fn params_follow_the_target_by_name() {
    let schemas = made_up();
    // Layer 1's `getPoint(point(x=1, y=2, old=pair(a=5), label="hi"))`.
    let pair_1 = tl(&[&w(4), &w(1), &int(5)]);
    let old = tl(&[
        &w(0x10),
        &w(2),
        &w(1 << 0 | 1 << 3),
        &int(1),
        &int(2),
        &pair_1,
        &string("hi"),
    ]);
    let new = tl(&[&w(0x10), &w(1), &w(1 << 0), &int(2), &int(1), &string("hi")]);
    assert_eq!(hex(&owned(schemas.request_from(1, &old))), hex(&new));

    let answer = tl(&[&w(1), &w(1 << 1), &int(2), &int(1), &9i64.to_le_bytes()]);
    let down = tl(&[&w(2), &w(0), &int(1), &int(2)]);
    assert_eq!(hex(&owned(schemas.answer_to(1, &answer))), hex(&down));

    // `a` sets bit 0 in layer 2, which promises a `b` layer 1 cannot give.
    let pair = tl(&[&w(0x20), &pair_1]);
    assert_eq!(
        schemas.request_from(1, &pair),
        Err(TranscodeError::MissingField {
            name: "pair".into(),
            field: "b".into(),
        })
    );
    let pair = tl(&[&w(3), &w(1), &int(5), &int(6)]);
    assert_eq!(hex(&owned(schemas.answer_to(1, &pair))), hex(&pair_1));
}

#[test]
fn values_are_checked_against_both_layers() {
    let schemas = made_up();
    // `thing.v` is optional in layer 1 and required in 2.
    let with = tl(&[&w(0x30), &w(6), &w(1), &int(3)]);
    let expected = tl(&[&w(0x30), &w(5), &int(3)]);
    assert_eq!(hex(&owned(schemas.request_from(1, &with))), hex(&expected));
    let without = tl(&[&w(0x30), &w(6), &w(0)]);
    assert_eq!(
        schemas.request_from(1, &without),
        Err(TranscodeError::MissingField {
            name: "thing".into(),
            field: "v".into(),
        })
    );

    // A dropped param is still read with its own type: a `point` where layer 1 has a `Pair`.
    let point_1 = tl(&[&w(2), &w(0), &int(1), &int(2)]);
    let wrong = tl(&[&w(0x10), &w(2), &w(1), &int(1), &int(2), &point_1]);
    assert_eq!(
        schemas.request_from(1, &wrong),
        Err(TranscodeError::WrongType {
            name: "point".into(),
            expected: "Pair".into(),
        })
    );

    // `box.item` is a `Pair` in layer 1, a `Thing` in 2: a layer-1 `pair` has no place there.
    let boxed = tl(&[&w(0x40), &w(8), &w(4), &w(0)]);
    assert_eq!(
        schemas.request_from(1, &boxed),
        Err(TranscodeError::WrongType {
            name: "pair".into(),
            expected: "Thing".into(),
        })
    );
}
