//! The legacy library's twelve calls through `auth_api::client` at layer 23 (the client
//! declares layer 23 with layer 23's `initConnection`), against the test DC, which answers in
//! layer-23 types; and the layer-230 account calls (reset, export, import).

use std::sync::Arc;

use auth_api::client::{Client, ClientConfig, MemoryStore, SignIn};
use auth_api::legacy::layer23::{enums, functions, types};
use auth_api::{Identifiable, Serialize};
use project_tests::script::bounded;
use test_dc::{Account, AuthConfig, TestDc};

const CODE: &str = "24680";
const API_ID: i32 = 611_335;
const API_HASH: &str = "d524b414d21f4d37f08684c1df41ac9c";

async fn start() -> TestDc {
    TestDc::builder()
        .dcs(3)
        .auth_config(AuthConfig {
            code: Some(CODE.into()),
            ..AuthConfig::default()
        })
        .user(Account::new("+9996621111").name("Old", "Timer"))
        .start()
        .await
        .expect("start the test DC")
}

fn client(dc: &TestDc, initial_dc: i32, layer: i32) -> Client {
    let mut config = ClientConfig::new(
        API_ID,
        API_HASH,
        dc.dcs(),
        initial_dc,
        vec![test_dc::test_server_key().public_key().clone()],
    );
    config.layer = layer;
    config.store = Arc::new(MemoryStore::new());
    Client::new(config).unwrap()
}

fn user_self(authorization: enums::auth::Authorization) -> types::UserSelf {
    let enums::auth::Authorization::Authorization(a) = authorization;
    match a.user {
        enums::User::Self_(user) => user,
        other => panic!("not userSelf: {other:?}"),
    }
}

#[tokio::test]
async fn the_twelve_legacy_calls_end_to_end() {
    bounded(async {
        let dc = start().await;
        let old = client(&dc, 2, 23);
        let legacy = old.layer23();
        let enums::auth::CheckedPhone::CheckedPhone(known) =
            legacy.check_phone("+9996621111").await.unwrap();
        assert!(known.phone_registered);
        // PFS: the client bound a temporary key with a real MTProto 1.0 bind message before
        // anything else, at layer 23 too; the layer is declared on that key.
        let perm = old.session().await.keys[&2].auth_key.id();
        let status = old
            .connection_status(2)
            .await
            .expect("a connection to DC 2");
        let temp = status.wire_key_id.expect("a key on the wire");
        assert_ne!(temp, perm, "the permanent key stays off the wire");
        assert_eq!(status.temp_keys_bound, 1);
        let seen = dc.server(2).stats().request_keys;
        assert_eq!(
            seen[0],
            (
                temp,
                auth_api::functions::auth::BindTempAuthKey::CONSTRUCTOR_ID
            )
        );
        assert!(seen.iter().all(|(key, _)| *key == temp), "{seen:x?}");
        let (layer, init) = dc.server(2).declared(temp);
        assert_eq!(layer, Some(23));
        assert_eq!(init.expect("initConnection").api_id, API_ID);
        // The first request, byte for byte: invokeWithLayer(23, layer 23's initConnection(...)).
        let defaults = ClientConfig::new(API_ID, API_HASH, [], 2, vec![]);
        let first = auth_api::functions::InvokeWithLayer::new(
            23,
            functions::InitConnection::new(
                API_ID,
                defaults.device_model,
                defaults.system_version,
                defaults.app_version,
                defaults.lang_code,
                functions::auth::CheckPhone::new("+9996621111".into()),
            ),
        )
        .to_bytes();
        assert_eq!(dc.server(2).stats().received(&first), 1);
        let enums::auth::CheckedPhone::CheckedPhone(unknown) =
            legacy.check_phone("+9996629999").await.unwrap();
        assert!(!unknown.phone_registered);

        // send_code's defaults on the wire, byte for byte as the server received them.
        let enums::auth::SentCode::SentCode(sent) = legacy.send_code("+9996621111").await.unwrap()
        else {
            panic!("not sentCode")
        };
        let expected = functions::auth::SendCode::new(
            "+9996621111".into(),
            0,
            API_ID,
            API_HASH.into(),
            "en".into(),
        )
        .to_bytes();
        assert_eq!(dc.server(2).stats().received(&expected), 1);
        assert!(sent.phone_registered);
        let hash = sent.phone_code_hash;
        assert!(legacy.send_call("+9996621111", &hash).await.unwrap());
        assert!(legacy.send_sms("+9996621111", &hash).await.unwrap());
        let user = user_self(legacy.sign_in("+9996621111", &hash, CODE).await.unwrap());
        assert_eq!(
            Some(i64::from(user.id)),
            dc.backend().user_id("+9996621111")
        );
        assert_eq!(user.first_name, "Old");
        assert!(legacy
            .send_invites(vec!["+4915112345678".into()], "join")
            .await
            .unwrap());

        // Sign-up of a new number (the code travels with signUp at layer 23).
        let newcomer = client(&dc, 2, 23);
        let enums::auth::SentCode::SentCode(sent) =
            newcomer.layer23().send_code("+9996627777").await.unwrap()
        else {
            panic!("not sentCode")
        };
        assert!(!sent.phone_registered);
        let new_user = user_self(
            newcomer
                .layer23()
                .sign_up("+9996627777", &sent.phone_code_hash, CODE, "New", "Comer")
                .await
                .unwrap(),
        );
        assert_eq!(
            Some(i64::from(new_user.id)),
            dc.backend().user_id("+9996627777")
        );

        // Export to DC 3, import there by another layer-23 client.
        let enums::auth::ExportedAuthorization::ExportedAuthorization(exported) =
            legacy.export_authorization(3).await.unwrap();
        assert_eq!(exported.id, user.id);
        let on_3 = client(&dc, 3, 23);
        let imported = user_self(
            on_3.layer23()
                .import_authorization(exported.id, exported.bytes.to_vec())
                .await
                .unwrap(),
        );
        assert_eq!(imported.id, user.id);
        let key_3 = on_3.session().await.keys[&3].auth_key.id();
        assert_eq!(dc.backend().authorized_user(3, key_3), Some(user.id.into()));

        // bindTempAuthKey by hand, in the layer-23 answer path: DC 3's key is unknown on DC
        // 2, and a bind message that is not one, with the right key, does not decrypt.
        let refused = legacy
            .bind_temp_auth_key(key_3, 1, 0, vec![0; 64])
            .await
            .unwrap_err();
        assert_eq!(refused.rpc_name(), Some("PERM_AUTH_KEY_INVALID"));
        let refused = legacy
            .bind_temp_auth_key(perm, 1, 0, vec![0; 64])
            .await
            .unwrap_err();
        assert_eq!(refused.rpc_name(), Some("ENCRYPTED_MESSAGE_INVALID"));

        // resetAuthorizations logs the DC 3 key out; logOut the caller.
        assert!(legacy.reset_authorizations().await.unwrap());
        assert_eq!(dc.backend().authorized_user(3, key_3), None);
        assert!(legacy.log_out().await.unwrap());
        let key_2 = old.session().await.keys[&2].auth_key.id();
        assert_eq!(dc.backend().authorized_user(2, key_2), None);
    })
    .await;
}

#[tokio::test]
async fn reset_export_and_import_at_layer_230() {
    bounded(async {
        let dc = start().await;
        let login = |c: Client| async move {
            let token = c
                .send_code("+9996621111")
                .await
                .unwrap()
                .into_code()
                .unwrap();
            match c.sign_in(&token, CODE).await.unwrap() {
                SignIn::SignedIn(user) => (c, user.id),
                other => panic!("{other:?}"),
            }
        };
        let (first, id) = login(client(&dc, 2, auth_api::LAYER)).await;
        let (second, _) = login(client(&dc, 2, auth_api::LAYER)).await;

        // Export to DC 3 and import with a client homed there.
        let (user_id, bytes) = first.export_authorization(3).await.unwrap();
        assert_eq!(user_id, id);
        let on_3 = client(&dc, 3, auth_api::LAYER);
        assert_eq!(
            on_3.import_authorization(user_id, bytes).await.unwrap().id,
            id
        );
        assert_eq!(on_3.get_me().await.unwrap().id, id);

        // reset from the first: the others lose access.
        first.reset_authorizations().await.unwrap();
        let error = second.get_me().await.unwrap_err();
        assert_eq!(error.rpc_name(), Some("AUTH_KEY_UNREGISTERED"));
        assert_eq!(
            on_3.get_me().await.unwrap_err().rpc_name(),
            Some("AUTH_KEY_UNREGISTERED")
        );
        assert_eq!(first.get_me().await.unwrap().id, id);
    })
    .await;
}
