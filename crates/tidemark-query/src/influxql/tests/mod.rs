//! InfluxQL over a real engine: line protocol in, exact Arrow out.
