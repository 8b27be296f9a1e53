pub mod db;
pub mod gateway;
pub mod redis;
