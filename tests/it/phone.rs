//! The phone in the browser: the page and its files (`page`), previews of menu versions not
//! yet published (`preview`), and the water-bill journey walked in a real headless Chromium
//! through both wire formats (`browser`).

mod browser;
mod page;
mod preview;
