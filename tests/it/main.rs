mod gateway;
mod journal;
mod menus;
mod sessions;
mod store;
mod support;
