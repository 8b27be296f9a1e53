mod gateway;
mod journal;
mod menus;
mod phone;
mod sessions;
mod store;
mod support;
