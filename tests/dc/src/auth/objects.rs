//! The TL objects the backend answers with, built with the layer-230 bindings; the few the
//! bindings leave out (their closure would pull in all of `Update` and `Message`) are
//! written by hand here, each with its id and layout from `schema/api.tl`.

use std::net::SocketAddr;

use auth_api::{enums, types};

use super::store::AccountRecord;
use crate::backend::InitConnection;

/// Layer 230's `user` for an account; `is_self` for the logged-in user's own record.
pub(crate) fn user(account: &AccountRecord, is_self: bool) -> enums::User {
    types::User {
        self_: is_self,
        contact: false,
        mutual_contact: false,
        deleted: false,
        bot: account.bot_secret.is_some(),
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
        premium: false,
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
        id: account.user_id,
        access_hash: Some(account.access_hash),
        first_name: Some(account.first_name.clone()),
        last_name: Some(account.last_name.clone()).filter(|s| !s.is_empty()),
        username: account.username.clone(),
        phone: Some(account.phone.clone()).filter(|p| !p.is_empty()),
        photo: None,
        status: None,
        // `bot` and `bot_info_version` share flags.14: a bot carries a version.
        bot_info_version: account.bot_secret.as_ref().map(|_| 1),
        restriction_reason: None,
        bot_inline_placeholder: None,
        lang_code: None,
        emoji_status: None,
        usernames: None,
        stories_max_id: None,
        color: None,
        profile_color: None,
        bot_active_users: None,
        bot_verification_icon: None,
        send_paid_messages_stars: None,
        linked_community_id: None,
    }
    .into()
}

/// `auth.authorization` for a logged-in account.
pub(crate) fn authorization(account: &AccountRecord) -> enums::auth::Authorization {
    authorization_with_token(account, None)
}

/// `auth.authorization` carrying a future auth token.
pub(crate) fn authorization_with_token(
    account: &AccountRecord,
    future_auth_token: Option<Vec<u8>>,
) -> enums::auth::Authorization {
    types::auth::Authorization {
        setup_password_required: false,
        otherwise_relogin_days: None,
        tmp_sessions: None,
        future_auth_token: future_auth_token.map(Into::into),
        user: user(account, true),
    }
    .into()
}

/// `config` naming every DC (127.0.0.1 and, on the same port, ::1), this one first.
pub(crate) fn config(this_dc: i32, dcs: &[(i32, SocketAddr)], date: i32) -> enums::Config {
    let mut dc_options = Vec::new();
    for (id, addr) in dcs {
        dc_options.push(
            types::DcOption {
                ipv6: addr.is_ipv6(),
                media_only: false,
                tcpo_only: false,
                cdn: false,
                r#static: false,
                this_port_only: false,
                id: *id,
                ip_address: addr.ip().to_string(),
                port: i32::from(addr.port()),
                secret: None,
            }
            .into(),
        );
    }
    types::Config {
        default_p2p_contacts: true,
        preload_featured_stickers: false,
        revoke_pm_inbox: true,
        blocked_mode: false,
        force_try_ipv6: false,
        date,
        expires: date + 3600,
        test_mode: true,
        this_dc,
        dc_options,
        dc_txt_domain_name: "localhost".into(),
        chat_size_max: 200,
        megagroup_size_max: 200_000,
        forwarded_count_max: 100,
        online_update_period_ms: 210_000,
        offline_blur_timeout_ms: 5_000,
        offline_idle_timeout_ms: 30_000,
        online_cloud_timeout_ms: 300_000,
        notify_cloud_delay_ms: 30_000,
        notify_default_delay_ms: 1_500,
        push_chat_period_ms: 60_000,
        push_chat_limit: 2,
        edit_time_limit: 172_800,
        revoke_time_limit: 2_147_483_647,
        revoke_pm_time_limit: 2_147_483_647,
        rating_e_decay: 2_419_200,
        stickers_recent_limit: 200,
        channels_read_media_period: 604_800,
        tmp_sessions: None,
        call_receive_timeout_ms: 20_000,
        call_ring_timeout_ms: 90_000,
        call_connect_timeout_ms: 30_000,
        call_packet_timeout_ms: 10_000,
        me_url_prefix: "https://t.me/".into(),
        autoupdate_url_prefix: None,
        gif_search_username: None,
        venue_search_username: None,
        img_search_username: None,
        static_maps_provider: None,
        caption_length_max: 1024,
        message_length_max: 4096,
        webfile_dc_id: this_dc,
        suggested_lang_code: None,
        lang_pack_version: None,
        base_lang_pack_version: None,
        reactions_default: None,
        autologin_token: None,
    }
    .into()
}

/// `nearestDc`: the DC asked is the nearest.
pub(crate) fn nearest_dc(this_dc: i32) -> enums::NearestDc {
    types::NearestDc {
        country: "ZZ".into(),
        this_dc,
        nearest_dc: this_dc,
    }
    .into()
}

/// `updates.state` of an account with no history.
pub(crate) fn state(date: i32) -> enums::updates::State {
    types::updates::State {
        pts: 1,
        qts: 0,
        date,
        seq: 1,
        unread_count: 0,
    }
    .into()
}

/// `authorization` (a session, as `acceptLoginToken` describes the one it let in).
pub(crate) fn session_info(
    hash: i64,
    init: Option<&InitConnection>,
    date: i32,
) -> enums::Authorization {
    let init = init.cloned().unwrap_or_default();
    types::Authorization {
        current: false,
        official_app: false,
        password_pending: false,
        encrypted_requests_disabled: false,
        call_requests_disabled: false,
        unconfirmed: false,
        hash,
        device_model: init.device_model,
        platform: String::new(),
        system_version: init.system_version,
        api_id: init.api_id,
        app_name: String::new(),
        app_version: init.app_version,
        date_created: date,
        date_active: date,
        ip: "127.0.0.1".into(),
        country: "ZZ".into(),
        region: String::new(),
    }
    .into()
}

/// `updates.getDifference#19c2f763`: the bindings leave it out (see the module docs).
pub(crate) const GET_DIFFERENCE_ID: u32 = 0x19c2_f763;

/// `updates.differenceEmpty#5d75a138 date:int seq:int = updates.Difference;`
pub(crate) fn difference_empty(date: i32, seq: i32) -> Vec<u8> {
    let mut out = Vec::with_capacity(12);
    out.extend_from_slice(&0x5d75_a138_u32.to_le_bytes());
    out.extend_from_slice(&date.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out
}

/// `updateShort#78d4dec1 update:updateLoginToken#564fe691 date:int = Updates;`
pub(crate) fn update_login_token(date: i32) -> Vec<u8> {
    let mut out = Vec::with_capacity(12);
    out.extend_from_slice(&0x78d4_dec1_u32.to_le_bytes());
    out.extend_from_slice(&0x564f_e691_u32.to_le_bytes());
    out.extend_from_slice(&date.to_le_bytes());
    out
}
