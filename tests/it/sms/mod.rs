mod send;
mod world;
