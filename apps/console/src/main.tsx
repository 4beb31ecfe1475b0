import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode, Suspense, lazy } from 'react';
import { createRoot } from 'react-dom/client';
import { Navigate, RouterProvider, createBrowserRouter } from 'react-router';
import { ApiError } from './api/client';
import { SessionProvider, homeOf, useSession } from './api/session';
import { Loading } from './components/Common';
import { Layout } from './components/Layout';
import { RequireRole } from './components/RequireRole';
import { LoginPage } from './pages/LoginPage';
import './styles.css';

// The operator's and the area's screens load with the app; the committee's (charts) and the
// administrator's come in their own chunks when first opened.
import { AlertListPage } from './pages/operator/AlertListPage';
import { AlertPage } from './pages/operator/AlertPage';
import { NewAlertPage } from './pages/operator/NewAlertPage';
import { AckLinkPage } from './pages/area/AckLinkPage';
import { InboxPage } from './pages/area/InboxPage';
import { TaskPage } from './pages/area/TaskPage';
const CommitteeAlertsPage = lazy(() => import('./pages/committee/CommitteeAlertsPage'));
const CommitteeAlertPage = lazy(() => import('./pages/committee/CommitteeAlertPage'));
const PeriodPage = lazy(() => import('./pages/committee/PeriodPage'));
const UsersPage = lazy(() => import('./pages/admin/UsersPage'));
const AccountsPage = lazy(() => import('./pages/admin/AccountsPage'));
const DirectoryPage = lazy(() => import('./pages/admin/DirectoryPage'));
const PsoPage = lazy(() => import('./pages/admin/PsoPage'));
const DeadLettersPage = lazy(() => import('./pages/admin/DeadLettersPage'));

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // Live updates come from the event stream: no polling, no refetch on focus.
      refetchOnWindowFocus: false,
      staleTime: 30_000,
      retry: (count, err) => !(err instanceof ApiError && err.status < 500) && count < 2,
    },
  },
});

function Home() {
  const { user } = useSession();
  return <Navigate to={user ? homeOf(user.role) : '/ingresar'} replace />;
}

const lazyPage = (node: React.ReactNode) => <Suspense fallback={<Loading />}>{node}</Suspense>;
const operator = ['operadora', 'admin'] as const;
const committee = ['comite', 'admin'] as const;

const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { path: '/', element: <Home /> },
      { path: '/ingresar', element: <LoginPage /> },
      { path: '/acuse', element: <AckLinkPage /> },
      {
        path: '/alertas',
        element: (
          <RequireRole roles={[...operator]}>
            <AlertListPage />
          </RequireRole>
        ),
      },
      {
        path: '/alertas/nueva',
        element: (
          <RequireRole roles={[...operator]}>
            <NewAlertPage />
          </RequireRole>
        ),
      },
      {
        path: '/alertas/:id',
        element: (
          <RequireRole roles={[...operator]}>
            <AlertPage />
          </RequireRole>
        ),
      },
      {
        path: '/bandeja',
        element: (
          <RequireRole roles={['area']}>
            <InboxPage />
          </RequireRole>
        ),
      },
      {
        path: '/bandeja/:taskId',
        element: (
          <RequireRole roles={['area']}>
            <TaskPage />
          </RequireRole>
        ),
      },
      {
        path: '/comite',
        element: <RequireRole roles={[...committee]}>{lazyPage(<CommitteeAlertsPage />)}</RequireRole>,
      },
      {
        path: '/comite/alertas/:id',
        element: <RequireRole roles={[...committee]}>{lazyPage(<CommitteeAlertPage />)}</RequireRole>,
      },
      {
        path: '/comite/periodo',
        element: <RequireRole roles={[...committee]}>{lazyPage(<PeriodPage />)}</RequireRole>,
      },
      {
        path: '/admin/usuarios',
        element: <RequireRole roles={['admin']}>{lazyPage(<UsersPage />)}</RequireRole>,
      },
      {
        path: '/admin/cuentas',
        element: <RequireRole roles={['admin']}>{lazyPage(<AccountsPage />)}</RequireRole>,
      },
      {
        path: '/admin/directorio',
        element: <RequireRole roles={['admin']}>{lazyPage(<DirectoryPage />)}</RequireRole>,
      },
      { path: '/admin/pso', element: <RequireRole roles={['admin']}>{lazyPage(<PsoPage />)}</RequireRole> },
      {
        path: '/admin/mensajes-fallidos',
        element: <RequireRole roles={['admin']}>{lazyPage(<DeadLettersPage />)}</RequireRole>,
      },
      {
        path: '*',
        element: (
          <section className="page">
            <h1>Página inexistente</h1>
            <p>
              <a href="/">Volver al inicio</a>
            </p>
          </section>
        ),
      },
    ],
  },
]);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <SessionProvider>
        <RouterProvider router={router} />
      </SessionProvider>
    </QueryClientProvider>
  </StrictMode>,
);
