//! QR login: `Client::qr_login`, `Client::accept_login_token` (being written).
