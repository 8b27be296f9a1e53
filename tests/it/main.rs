mod menus;
mod sessions;
mod store;
mod support;
fn main(){}
