mod gateway;
mod journal;
mod menus;
mod phone;
mod report;
mod sessions;
mod store;
mod support;
