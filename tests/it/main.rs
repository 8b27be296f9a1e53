mod gateway;
mod menus;
mod sessions;
mod store;
mod support;
