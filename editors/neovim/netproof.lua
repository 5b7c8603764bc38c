-- netproof for Neovim: filetype detection for *.np and the netproof language
-- server (`netproof lsp`). Needs `netproof` on PATH.
--
-- Copy this file to ~/.config/nvim/plugin/netproof.lua, or paste it into
-- init.lua. Neovim 0.11+ uses vim.lsp.config/vim.lsp.enable; older versions
-- (0.8-0.10) fall back to vim.lsp.start on every netproof buffer.

vim.filetype.add({ extension = { np = 'netproof' } })

-- Comments start with `#`, so that `gc` comments lines out.
vim.api.nvim_create_autocmd('FileType', {
  pattern = 'netproof',
  callback = function(args)
    vim.bo[args.buf].commentstring = '# %s'
  end,
})

local server = {
  cmd = { 'netproof', 'lsp' },
  filetypes = { 'netproof' },
  -- A design is one file; the nearest VCS root or netproof.toml is the root.
  root_markers = { 'netproof.toml', '.git' },
}

if vim.lsp.config then
  vim.lsp.config('netproof', server)
  vim.lsp.enable('netproof')
else
  vim.api.nvim_create_autocmd('FileType', {
    pattern = 'netproof',
    callback = function(args)
      local root = vim.fs.root and vim.fs.root(args.buf, server.root_markers)
      vim.lsp.start({ name = 'netproof', cmd = server.cmd, root_dir = root })
    end,
  })
end

-- Optional: format (through `netproof fmt`) and apply every fix on save.
-- Remove this block if you prefer to do both by hand
-- (`vim.lsp.buf.format()`, `vim.lsp.buf.code_action()`).
vim.api.nvim_create_autocmd('BufWritePre', {
  pattern = '*.np',
  callback = function(args)
    vim.lsp.buf.format({ bufnr = args.buf, name = 'netproof', timeout_ms = 2000 })
  end,
})
