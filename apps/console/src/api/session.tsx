import { useQueryClient } from '@tanstack/react-query';
import { ReactNode, createContext, useContext, useEffect, useState } from 'react';
import { SessionUser, login as apiLogin, logout as apiLogout, onSessionChange, storedUser } from './client';

interface SessionValue {
  user: SessionUser | null;
  login: (username: string, password: string) => Promise<SessionUser>;
  logout: () => Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<SessionUser | null>(() => storedUser());
  const qc = useQueryClient();
  useEffect(
    () =>
      onSessionChange((u) => {
        setUser(u);
        if (!u) qc.clear();
      }),
    [qc],
  );
  const value: SessionValue = {
    user,
    login: apiLogin,
    logout: async () => {
      await apiLogout();
      qc.clear();
    },
  };
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

/** Where each role lands after signing in. */
export function homeOf(role: SessionUser['role']): string {
  return { operadora: '/alertas', area: '/bandeja', comite: '/comite', admin: '/admin/usuarios' }[role];
}
