pub mod browser;
pub mod db;
pub mod gateway;
pub mod process;
pub mod redis;
