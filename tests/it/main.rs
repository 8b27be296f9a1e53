mod gateway;
mod journal;
mod menus;
mod report;
mod sessions;
mod store;
mod support;
