//! Sessions from (and for) other libraries: Telethon and Pyrogram (being written).
