//! What `cargo xtask codegen` generates: the one place that lists the bindings.
//!
//! Each entry turns one schema into one module of a generated folder: the MTProto service
//! schema goes to the runtime (`runtime/proto/src/generated/`, used by the key exchange and
//! the session), the API layers to `auth-api/src/generated/`. Functions are listed by name (or
//! `ns.*`); every type they use is generated with them (the transitive closure), the rest of
//! the schema is not.

use tl_codegen::emit::Selection;

/// One generated module.
pub struct Binding {
    /// The folder it is written to, relative to the workspace root.
    pub dir: &'static str,
    /// Module (and file) name in that folder.
    pub module: &'static str,
    /// The schema, relative to the workspace root.
    pub schema: &'static str,
    /// Functions to generate (`None`: the whole schema).
    pub functions: Option<&'static [&'static str]>,
    /// Types to generate even if no selected function uses them.
    pub types: &'static [&'static str],
    /// What the module is, for its documentation.
    pub doc: &'static str,
}

/// Where the runtime's service schema is generated.
pub const RUNTIME_DIR: &str = "runtime/proto/src/generated";
/// Where the API bindings of `auth-api` are generated.
pub const API_DIR: &str = "auth-api/src/generated";

/// Every generated module.
pub const BINDINGS: &[Binding] = &[
    Binding {
        dir: RUNTIME_DIR,
        module: "mtproto",
        schema: "schema/mtproto.tl",
        functions: None,
        types: &[],
        doc: "The MTProto service schema: key exchange, acknowledgements, salts, pings, sessions.",
    },
    Binding {
        dir: API_DIR,
        module: "api",
        schema: "schema/api.tl",
        functions: Some(&[
            "auth.*",
            "invokeWithLayer",
            "initConnection",
            "invokeWithoutUpdates",
            "help.getConfig",
            "help.getNearestDc",
            "account.getPassword",
            "account.sendVerifyEmailCode",
            "account.verifyEmail",
            "updates.getState",
            "users.getUsers",
        ]),
        types: &["auth.*"],
        doc:
            "Layer 230: every `auth.*` function and type, what login needs, and the types they use.",
    },
    Binding {
        dir: API_DIR,
        module: "legacy_layer23",
        schema: "schema/legacy/layer23.tl",
        functions: Some(&[
            "auth.checkPhone",
            "auth.sendCode",
            "auth.sendCall",
            "auth.sendSms",
            "auth.sendInvites",
            "auth.signIn",
            "auth.signUp",
            "auth.logOut",
            "auth.resetAuthorizations",
            "auth.exportAuthorization",
            "auth.importAuthorization",
            "auth.bindTempAuthKey",
            "invokeWithLayer",
            "initConnection",
        ]),
        types: &[],
        doc: "Layer 23: the 12 `auth.*` calls of the legacy library, the wrappers that declare the layer (`invokeWithLayer`, `initConnection`), and the types they use.",
    },
];

/// Fields whose values are secrets: their type is `tl_wire::Secret<T>` (zeroized on drop,
/// `<redacted>` in `Debug`, the plain value on the wire); constructors and setters take the
/// plain value.
/// Named `constructor_or_function.field`, as in the schema.
pub const SECRET_FIELDS: &[&str] = &[
    // Login codes and passwords.
    "auth.signIn.phone_code",
    "auth.signUp.phone_code",
    "auth.checkRecoveryPassword.code",
    "auth.recoverPassword.code",
    "emailVerificationCode.code",
    "emailVerificationGoogle.token",
    "emailVerificationApple.token",
    "account.passwordInputSettings.new_password_hash",
    "secureSecretSettings.secure_secret",
    "inputCheckPasswordSRP.A",
    "inputCheckPasswordSRP.M1",
    // Tokens that authorize a session.
    "auth.exportedAuthorization.bytes",
    "auth.importAuthorization.bytes",
    "auth.loginToken.token",
    "auth.loginTokenMigrateTo.token",
    "auth.importLoginToken.token",
    "auth.acceptLoginToken.token",
    "auth.authorization.future_auth_token",
    "codeSettings.logout_tokens",
    "auth.importBotAuthorization.bot_auth_token",
    "auth.importWebTokenAuthorization.web_auth_token",
    "auth.bindTempAuthKey.encrypted_message",
    "auth.loggedOut.future_auth_token",
    "auth.cancelWebTokenAuthorization.web_auth_token",
    "auth.finishFirebasePnvLogin.google_token",
    "codeSettings.token",
    "auth.requestFirebaseSms.safety_net_token",
    "auth.requestFirebaseSms.play_integrity_token",
    "auth.requestFirebaseSms.ios_push_secret",
    "config.autologin_token",
    // An MTProxy secret of a DC option.
    "dcOption.secret",
    // Key-exchange secrets.
    "p_q_inner_data.new_nonce",
    "p_q_inner_data_dc.new_nonce",
    "p_q_inner_data_temp.new_nonce",
    "p_q_inner_data_temp_dc.new_nonce",
];

impl Binding {
    /// The generator's selection for this binding.
    pub fn selection(&self) -> Selection {
        match self.functions {
            None => Selection::All,
            Some(functions) => Selection::Only {
                functions: functions.iter().map(|s| s.to_string()).collect(),
                types: self.types.iter().map(|s| s.to_string()).collect(),
            },
        }
    }
}
