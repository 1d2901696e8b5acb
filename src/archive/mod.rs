pub mod crypt;
