//! Listeners the tests own: bound on port 0 and kept (never released and bound again),
//! served by a thread that blocks until a connection arrives or the test drops it, and
//! waits that end on a condition with a deadline instead of on a clock.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// No serving thread lives longer than this, should a test forget to drop it.
const LIFETIME: Duration = Duration::from_secs(60);

/// A TCP listener on 127.0.0.1, on a port the system chose.
pub fn bind_loopback() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0")
}

/// A loopback port on which nothing listens, and nothing will while the returned
/// socket lives: it is bound (so no one else gets the port) but does not listen, so a
/// connection to it is refused.
pub fn closed_port() -> (u16, tokio::net::TcpSocket) {
    let socket = tokio::net::TcpSocket::new_v4().expect("a TCP socket");
    socket.bind(super::loopback(0)).expect("bind 127.0.0.1:0");
    let port = socket.local_addr().expect("local address").port();
    (port, socket)
}

/// A loopback UDP port on which nothing reads, and nothing will while the returned socket
/// lives: it is bound (so no one else gets the port) and connected to another port, so
/// the kernel matches no socket to datagrams from anyone else and answers them with ICMP
/// port unreachable, as for a closed port.
pub fn closed_udp_port() -> (u16, std::net::UdpSocket) {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind UDP 127.0.0.1:0");
    socket
        .connect("127.0.0.1:9")
        .expect("connect the UDP socket elsewhere");
    let port = socket.local_addr().expect("local address").port();
    (port, socket)
}

/// Binds `bind` on every address with one port, the one the first address got (its
/// `port_of`); another port is tried when one of the others has it taken (bounded).
pub fn bind_same_port<T>(
    addresses: &[std::net::IpAddr],
    bind: impl Fn(SocketAddr) -> std::io::Result<T>,
    port_of: impl Fn(&T) -> u16,
) -> (u16, Vec<T>) {
    for _ in 0..20 {
        let first = bind(SocketAddr::new(addresses[0], 0)).expect("bind the first address");
        let port = port_of(&first);
        let mut bound = vec![first];
        for address in &addresses[1..] {
            match bind(SocketAddr::new(*address, port)) {
                Ok(socket) => bound.push(socket),
                Err(_) => break,
            }
        }
        if bound.len() == addresses.len() {
            return (port, bound);
        }
    }
    panic!("no port was free on all of {addresses:?}");
}

/// Waits until `fd` is readable, `wake` is readable (or closed), or `deadline` passes.
/// True when `fd` is readable and `wake` is not.
pub fn readable(fd: RawFd, wake: Option<RawFd>, deadline: Instant) -> bool {
    let mut fds = vec![libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }];
    if let Some(wake) = wake {
        fds.push(libc::pollfd {
            fd: wake,
            events: libc::POLLIN,
            revents: 0,
        });
    }
    // Bounded: every call waits at most until the deadline.
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let timeout = libc::c_int::try_from(left.as_millis().max(1)).unwrap_or(libc::c_int::MAX);
        // SAFETY: `fds` is a valid array of pollfd for its length.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
        if ready < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return false;
        }
        if ready == 0 {
            continue;
        }
        if fds.len() > 1 && fds[1].revents != 0 {
            return false;
        }
        return fds[0].revents != 0;
    }
}

/// A thread that accepts connections on a listener the test bound and hands each to
/// `serve`, until the acceptor is dropped (or `LIFETIME` passes). It blocks in poll(2)
/// on the listener and on a wake-up socket, so it neither spins nor sleeps.
pub struct Acceptor {
    pub address: SocketAddr,
    wake: Option<UnixStream>,
    thread: Option<JoinHandle<()>>,
}

impl Acceptor {
    pub fn start(
        listener: TcpListener,
        mut serve: impl FnMut(TcpStream) + Send + 'static,
    ) -> Acceptor {
        let address = listener.local_addr().expect("listener address");
        let (wake, woken) = UnixStream::pair().expect("a wake-up socket pair");
        let thread = std::thread::spawn(move || {
            let until = Instant::now() + LIFETIME;
            while readable(listener.as_raw_fd(), Some(woken.as_raw_fd()), until) {
                if let Ok((stream, _)) = listener.accept() {
                    serve(stream);
                }
            }
            // `serve` is dropped here, and with it whatever connections it held.
        });
        Acceptor {
            address,
            wake: Some(wake),
            thread: Some(thread),
        }
    }

    /// Connections are held open, silent, until the acceptor is dropped.
    pub fn silent(listener: TcpListener) -> Acceptor {
        let mut held = Vec::new();
        Acceptor::start(listener, move |stream| held.push(stream))
    }

    /// Connections are closed as soon as they are accepted.
    pub fn closing(listener: TcpListener) -> Acceptor {
        Acceptor::start(listener, drop)
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        // Closing our end makes the other readable: the thread stops.
        drop(self.wake.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Polls `condition` until it holds or `limit` passes; the pause between two looks is
/// the polling interval of a condition no event announces (a file appearing), not a
/// wait for something to happen in time.
pub fn wait_until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_millis(1);
    // Bounded by the deadline.
    while !condition() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}
