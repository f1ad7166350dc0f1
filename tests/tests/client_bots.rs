//! Bots sign in with a token: our client (`Client::bot_sign_in`, following the bot's home
//! DC) and Telethon 1.45's `client.start(bot_token=...)`, against the test DC.

use std::process::Command;
use std::sync::Arc;

use auth_api::client::{Client, ClientConfig, MemoryStore};
use project_tests::script::{bounded, run_script, step, ScriptNames};
use project_tests::{oracle_python, workspace_root};
use test_dc::TestDc;

const TOKEN: &str = "7000001:AAE-test-secret";

async fn start() -> TestDc {
    TestDc::builder()
        .dcs(3)
        .bot(TOKEN, "Echo", Some(3))
        .start()
        .await
        .expect("start the test DC")
}

#[tokio::test]
async fn our_client_signs_in_as_the_bot_on_its_home_dc() {
    bounded(async {
        let dc = start().await;
        let mut config = ClientConfig::new(
            611_335,
            "d524b414d21f4d37f08684c1df41ac9c",
            dc.dcs(),
            2,
            vec![test_dc::test_server_key().public_key().clone()],
        );
        config.store = Arc::new(MemoryStore::new());
        let client = Client::new(config).unwrap();
        let wrong = client.bot_sign_in("7000001:wrong").await.unwrap_err();
        assert_eq!(wrong.rpc_name(), Some("ACCESS_TOKEN_INVALID"));
        let bot = client.bot_sign_in(TOKEN).await.unwrap();
        assert_eq!((bot.id, bot.bot), (7_000_001, true));
        assert_eq!(bot.username.as_deref(), Some("echo_bot"));
        assert_eq!(client.home_dc().await, 3, "USER_MIGRATE_3 followed");
        assert_eq!(client.get_me().await.unwrap().id, 7_000_001);
    })
    .await;
}

#[tokio::test]
async fn telethon_starts_as_the_bot() {
    bounded(async {
        let dc = TestDc::builder()
            .dcs(2)
            .bot(TOKEN, "Echo", Some(2))
            .start()
            .await
            .unwrap();
        let plan = serde_json::json!({
            "pem": dc.public_key_pem(),
            "port": dc.addr(2).port(),
            "token": TOKEN,
            "wrong": "7000001:wrong",
        });
        let mut command = Command::new(oracle_python());
        command.arg(workspace_root().join("tests/py/telethon_bot.py"));
        let steps = run_script(
            command,
            plan.to_string().as_bytes(),
            ScriptNames {
                script: "telethon_bot.py",
                runner: "the oracle Python",
                oracle: "Telethon",
                setup: "cargo xtask py-setup",
            },
        )
        .await;
        assert_eq!(
            step(&steps, "wrong_token")["error"],
            "AccessTokenInvalidError"
        );
        let me = step(&steps, "get_me");
        assert_eq!(me["id"], 7_000_001);
        assert_eq!(me["bot"], true);
        assert_eq!(me["first_name"], "Echo");
        assert_eq!(me["username"], "echo_bot");
    })
    .await;
}
