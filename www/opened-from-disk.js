// A classic script (not a module: browsers refuse module scripts from file:// pages, which is
// why nothing else would run): when the page is opened from disk, say how to serve it.
if (location.protocol === 'file:') {
  document.addEventListener('DOMContentLoaded', () => {
    const status = document.getElementById('model-status');
    status.className = 'status warning';
    status.textContent = 'This page was opened from disk (file://), where browsers do not let it start its workers or read its model. '
      + 'Serve the folder instead: in a terminal, in the folder with index.html, run  python3 -m http.server 8000  '
      + 'and open http://localhost:8000/ (nothing is uploaded: the server is your own computer).';
    status.dataset.fileProtocol = 'true';
  });
}
