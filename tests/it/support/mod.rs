pub mod db;
pub mod redis;
